"""course_utils: the helpers every notebook of the MNIST neural-network course imports.

Nothing runs at import time; each name below is a plain function or class. Modules, one concern each:
env (device, seeds, Colab), data + mnist_files (verified MNIST, fast batches), models, training,
multiseed (several seeds trained at once), augment, plots, widgets, insight, netviz, preprocess,
deploy (checkpoints, export, predicting any image), canvas (draw a digit), checks (exercise feedback).
Their input checks live in one private module, _validate: one rule per kind of argument.
This package is all that Colab installs. The maintainer tooling (Colab badges, student editions, executing the
course, benchmarks, the run cache of `make test`) is in tools/ at the repository root, run by the Makefile.
"""
from .augment import RandomShift, shift_images
from .canvas import DigitCanvas, live_predictions
from .checks import check_function, check_value
from .data import MNIST_SIZES, TensorBatches, mnist_dataset, mnist_tensors
from .deploy import (CheckpointError, Prediction, checkpoint_info, export_model, load_checkpoint, load_exported,
                     save_checkpoint)
from .deploy import predict as predict_image  # training.predict (raw scores for a batch) keeps the plain name
from .env import describe_device, in_colab, pick_device, seed_everything, versions
from .insight import find_preferred_inputs, get_activations
from .mnist_files import MnistUnavailable, ensure_mnist
from .models import MLP, AdvancedCNN, SimpleCNN, count_parameters
from .multiseed import SeedRuns, fit_seeds
from .netviz import draw_network, network_explorer, network_state
from .plots import (bar_chart, plot_confusion_matrix, plot_curves, plot_descent_paths, show_digits, show_filters,
                    show_predictions, show_weights)
from .preprocess import NoDigitFound, preprocess
from .training import History, confusion_matrix, evaluate, fit, predict, train_epoch
from .widgets import neuron_explorer, plot_neuron

__all__ = [
    "MLP", "AdvancedCNN", "SimpleCNN", "count_parameters",
    "MNIST_SIZES", "MnistUnavailable", "TensorBatches", "ensure_mnist", "mnist_dataset", "mnist_tensors",
    "RandomShift", "shift_images",
    "History", "confusion_matrix", "evaluate", "fit", "predict", "train_epoch", "SeedRuns", "fit_seeds",
    "bar_chart", "plot_confusion_matrix", "plot_curves", "plot_descent_paths", "show_digits", "show_filters",
    "show_predictions", "show_weights",
    "neuron_explorer", "plot_neuron", "draw_network", "network_explorer", "network_state",
    "find_preferred_inputs", "get_activations",
    "CheckpointError", "Prediction", "checkpoint_info", "export_model", "load_checkpoint", "load_exported",
    "save_checkpoint", "predict_image", "NoDigitFound", "preprocess", "DigitCanvas", "live_predictions",
    "check_function", "check_value",
    "describe_device", "in_colab", "pick_device", "seed_everything", "versions",
]
