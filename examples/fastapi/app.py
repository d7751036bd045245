"""A churn-prediction service with FastAPI. The model is not in the image: it is read at
start-up from MODEL_PATH (default /app/models/churn.pkl), a file on a mounted volume.

    POST /predict  {"tenure_months": 3, "monthly_charges": 99.5, "support_calls": 5, "contract_years": 0}
                   -> {"churn": true, "probability": 0.93}
    GET  /health   -> {"status": "ok", "model": "/app/models/churn.pkl"}
"""
import os
import pickle
import sys

from fastapi import FastAPI
from pydantic import BaseModel, Field

MODEL_PATH = os.environ.get("MODEL_PATH", "/app/models/churn.pkl")


def load_model(path):
    try:
        with open(path, "rb") as file:
            return pickle.load(file)
    except FileNotFoundError:
        sys.exit(f"error: no model at {path}. Mount the directory that holds it "
                 f"(-v ./models:/app/models) and set MODEL_PATH, or train one first: "
                 f"pier run --rm -v ./models:/app/models IMAGE python train.py")


bundle = load_model(MODEL_PATH)
model = bundle["model"]

app = FastAPI(title="Churn predictor")


class Customer(BaseModel):
    tenure_months: int = Field(ge=0, le=600)
    monthly_charges: float = Field(ge=0)
    support_calls: int = Field(ge=0)
    contract_years: int = Field(ge=0, le=5)


class Prediction(BaseModel):
    churn: bool
    probability: float


@app.get("/health")
def health():
    return {"status": "ok", "model": MODEL_PATH}


@app.post("/predict", response_model=Prediction)
def predict(customer: Customer):
    row = [[customer.tenure_months, customer.monthly_charges, customer.support_calls, customer.contract_years]]
    probability = float(model.predict_proba(row)[0][1])
    return Prediction(churn=probability >= 0.5, probability=round(probability, 4))
