"""course_utils: the helpers every notebook of the MNIST neural-network course imports.

Nothing runs at import time; each name below is a plain function or class.
"""
from .checks import check_function, check_value
from .data import MNIST_SIZES, TensorBatches, mnist_dataset, mnist_tensors
from .env import describe_device, in_colab, pick_device, seed_everything, versions
from .mnist_files import MnistUnavailable, ensure_mnist
from .models import MLP, count_parameters
from .plots import bar_chart, plot_curves, show_digits
from .training import History, evaluate, fit, predict, train_epoch

__all__ = [
    "History",
    "MLP",
    "MNIST_SIZES",
    "MnistUnavailable",
    "TensorBatches",
    "bar_chart",
    "check_function",
    "check_value",
    "count_parameters",
    "describe_device",
    "ensure_mnist",
    "evaluate",
    "fit",
    "in_colab",
    "mnist_dataset",
    "mnist_tensors",
    "pick_device",
    "predict",
    "plot_curves",
    "seed_everything",
    "show_digits",
    "train_epoch",
    "versions",
]
