"""Train a classifier on the Iris data set (shipped with scikit-learn) and save it.

    python train.py [--output model.pkl]

The pickle holds the fitted model with the class and feature names the API reports.
"""
import argparse
import pickle

from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="model.pkl", help="where to write the model (default: model.pkl)")
    args = parser.parse_args()

    iris = load_iris()
    x_train, x_test, y_train, y_test = train_test_split(
        iris.data, iris.target, test_size=0.2, random_state=42, stratify=iris.target)
    model = RandomForestClassifier(n_estimators=100, random_state=42)
    model.fit(x_train, y_train)
    accuracy = model.score(x_test, y_test)

    bundle = {
        "model": model,
        "classes": [str(name) for name in iris.target_names],
        "features": [str(name) for name in iris.feature_names],
        "accuracy": accuracy,
    }
    with open(args.output, "wb") as file:
        pickle.dump(bundle, file)
    print(f"trained RandomForestClassifier on {len(x_train)} flowers; test accuracy {accuracy:.3f}; saved {args.output}")


if __name__ == "__main__":
    main()
