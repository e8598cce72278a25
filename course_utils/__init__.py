"""course_utils: the helpers every notebook of the MNIST neural-network course imports.

Nothing runs at import time; each name below is a plain function or class.

Modules a learner reads, one concern each:
    env (device, seeds, Colab), data (MNIST as a dataset or as preloaded tensors, fast batches),
    models (MLP, SimpleCNN, AdvancedCNN), training (train_epoch, evaluate, fit, scores_of: raw scores
    for a batch), multiseed (several seeds trained at once), augment, plots, widgets (the neuron
    explorer), insight, netviz (the network explorer), preprocess, deploy (checkpoints, export, predict:
    a prediction for one picture, or "not a digit"), resume (training that survives a restart), canvas (draw
    a digit), exercises (the checks under each exercise).
Plumbing, not part of the lessons:
    _validate (every input check, one rule per kind of argument), _explorer (the scaffold the two
    explorers share), atomic (files written under a temporary name first), mnist_files (fetching and
    verifying MNIST's raw files; only ensure_mnist and MnistUnavailable are for learners).

One vocabulary throughout: an activation is its torch.nn class (``activation=nn.ReLU``); "check" means
exercise feedback; ``scores_of`` is for a batch of images, ``predict`` for one picture.

This package is all that Colab installs. The maintainer tooling (Colab badges, student editions, executing the
course, benchmarks, the run cache of `make test`) is in tools/ at the repository root, run by the Makefile.
"""
from .augment import RandomShift, shift_images
from .canvas import DigitCanvas, live_predictions
from .data import MNIST_SIZES, TensorBatches, mnist_dataset, mnist_tensors
from .deploy import (CheckpointError, DigitThreshold, Prediction, checkpoint_info, export_model, load_checkpoint,
                     load_exported, predict, save_checkpoint)
from .env import describe_device, in_colab, pick_device, seed_everything, versions
from .exercises import check_function, check_value
from .insight import find_preferred_inputs, get_activations
from .mnist_files import MnistUnavailable, ensure_mnist
from .models import MLP, AdvancedCNN, SimpleCNN, count_parameters
from .multiseed import SeedRuns, fit_seeds
from .netviz import draw_network, network_explorer, network_state
from .plots import (bar_chart, plot_confusion_matrix, plot_curves, plot_descent_paths, show_digits, show_filters,
                    show_predictions, show_weights)
from .preprocess import NoDigitFound, preprocess
from .resume import TrainingState, resume_training, save_training_state
from .training import History, confusion_matrix, evaluate, fit, scores_of, train_epoch
from .widgets import neuron_explorer, plot_neuron

__all__ = [
    "MLP", "AdvancedCNN", "SimpleCNN", "count_parameters",
    "MNIST_SIZES", "MnistUnavailable", "TensorBatches", "ensure_mnist", "mnist_dataset", "mnist_tensors",
    "RandomShift", "shift_images",
    "History", "confusion_matrix", "evaluate", "fit", "scores_of", "train_epoch", "SeedRuns", "fit_seeds",
    "bar_chart", "plot_confusion_matrix", "plot_curves", "plot_descent_paths", "show_digits", "show_filters",
    "show_predictions", "show_weights",
    "neuron_explorer", "plot_neuron", "draw_network", "network_explorer", "network_state",
    "find_preferred_inputs", "get_activations",
    "CheckpointError", "DigitThreshold", "Prediction", "checkpoint_info", "export_model", "load_checkpoint",
    "load_exported", "save_checkpoint", "predict", "NoDigitFound", "preprocess", "DigitCanvas", "live_predictions",
    "TrainingState", "resume_training", "save_training_state",
    "check_function", "check_value",
    "describe_device", "in_colab", "pick_device", "seed_everything", "versions",
]
