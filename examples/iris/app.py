"""The Iris model as a small web service.

    POST /predict  {"features": [5.1, 3.5, 1.4, 0.2]}          -> {"class": "setosa", "probabilities": {...}}
                   {"features": [[5.1, 3.5, 1.4, 0.2], [...]]}  -> [{...}, {...}]
    GET  /health   -> {"status": "ok"}
    GET  /         -> an HTML form

The model is loaded once, when the process starts (MODEL_PATH, default /app/model.pkl).
"""
import os
import pickle
import sys

from flask import Flask, jsonify, render_template, request

MODEL_PATH = os.environ.get("MODEL_PATH", "/app/model.pkl")


def load_model(path):
    try:
        with open(path, "rb") as file:
            return pickle.load(file)
    except FileNotFoundError:
        sys.exit(f"error: no model at {path}: train one with `python train.py --output {path}` "
                 "or set MODEL_PATH to where it is")


bundle = load_model(MODEL_PATH)
model = bundle["model"]
classes = bundle["classes"]
features = bundle["features"]

app = Flask(__name__)


class BadInput(ValueError):
    pass


def rows_from(payload):
    """The feature rows of a request: one row of four numbers, or a list of such rows."""
    if not isinstance(payload, dict) or "features" not in payload:
        raise BadInput('send JSON like {"features": [5.1, 3.5, 1.4, 0.2]}')
    values = payload["features"]
    single = isinstance(values, list) and all(isinstance(v, (int, float)) for v in values)
    rows = [values] if single else values
    if not isinstance(rows, list) or not rows:
        raise BadInput("features must be a list of 4 numbers or a list of such lists")
    for index, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != len(features) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in row):
            raise BadInput(f"row {index}: expected {len(features)} numbers ({', '.join(features)})")
    return rows, single


def predict(rows):
    answers = []
    for probabilities in model.predict_proba(rows):
        best = max(range(len(classes)), key=lambda i: probabilities[i])
        answers.append({
            "class": classes[best],
            "probabilities": {name: round(float(p), 4) for name, p in zip(classes, probabilities)},
        })
    return answers


@app.get("/health")
def health():
    return jsonify(status="ok")


@app.post("/predict")
def predict_endpoint():
    try:
        rows, single = rows_from(request.get_json(silent=True))
    except BadInput as error:
        return jsonify(error=str(error)), 400
    answers = predict(rows)
    return jsonify(answers[0] if single else answers)


@app.route("/", methods=["GET", "POST"])
def form():
    answer, error, values = None, None, {}
    if request.method == "POST":
        try:
            values = {name: request.form.get(name, "") for name in features}
            answer = predict([[float(values[name]) for name in features]])[0]
        except ValueError:
            error = "Enter four numbers."
    return render_template("index.html", features=features, values=values, answer=answer, error=error)
