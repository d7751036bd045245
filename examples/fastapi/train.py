"""Train a customer-churn model on generated data and save it where the service will read it.

    python train.py [--output /app/models/churn.pkl] [--customers 5000]

The data is synthetic (seeded, so every run gives the same model): customers with short
tenure, many support calls and a high monthly bill churn more often.
"""
import argparse
import os
import pickle

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

FEATURES = ["tenure_months", "monthly_charges", "support_calls", "contract_years"]


def generate(customers: int, seed: int = 7):
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 73, customers)
    charges = rng.uniform(20, 120, customers).round(2)
    calls = rng.poisson(2, customers)
    contract = rng.choice([0, 1, 2], customers, p=[0.5, 0.3, 0.2])
    score = -0.05 * tenure + 0.03 * charges + 0.6 * calls - 1.2 * contract - 1.0
    churned = rng.random(customers) < 1 / (1 + np.exp(-score))
    return np.column_stack([tenure, charges, calls, contract]), churned.astype(int)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=os.environ.get("MODEL_PATH", "/app/models/churn.pkl"))
    parser.add_argument("--customers", type=int, default=5000)
    args = parser.parse_args()

    x, y = generate(args.customers)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=0)
    model = make_pipeline(StandardScaler(), LogisticRegression())
    model.fit(x_train, y_train)
    accuracy = model.score(x_test, y_test)

    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    temp = args.output + ".tmp"
    with open(temp, "wb") as file:
        pickle.dump({"model": model, "features": FEATURES, "accuracy": accuracy}, file)
    os.replace(temp, args.output)
    print(f"trained churn model on {len(x_train)} customers; test accuracy {accuracy:.3f}; saved {args.output}")


if __name__ == "__main__":
    main()
