"""The run cache of a test session: `make test` trains each seeded run once, not twice.

`make test` executes every notebook and then its student edition, which repeats the same trainings with
the same seeds. The Makefile gives the session a fresh folder in ``$COURSE_RUN_CACHE`` and an IPython
startup file (tools/ipython_startup.py) that calls ``install()`` in every notebook kernel before the first
cell. ``install()`` replaces course_utils' ``fit`` and ``fit_seeds``, wherever course_utils binds them, by
wrappers that

1. bind the call's arguments to the function's signature and fingerprint every one of them: tensors by
   value, TensorBatches with their generator's state, models (class, repr, weights and buffers),
   optimizers (settings and state), schedulers, augmentations, functions and classes, plain values; plus
   torch's global random state and settings, and the code of course_utils;
2. on a hit, put everything the real call changes (weights, gradients, train/eval mode, optimizer and
   scheduler state, every generator, the global random state) where the stored run left it, print one
   line saying so, and return the stored result;
3. on a miss, call the real function and store its result with what it left behind, unless the call
   changed something that a hit could not restore.

An argument that cannot be fingerprinted reliably (a DataLoader, an iterator, an object of an unknown
kind) means the call is not cached. course_utils itself knows nothing of this. Without
``$COURSE_RUN_CACHE`` (always, for learners) nothing is installed, and an installed wrapper only calls
the real function.
"""
from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import importlib
import inspect
import os
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from course_utils.atomic import atomic_write

if TYPE_CHECKING:
    from typing import TypeAlias

    from torch.optim.lr_scheduler import LRScheduler, ReduceLROnPlateau

    # what a hit restores
    Stateful: TypeAlias = "nn.Module | torch.Generator | torch.optim.Optimizer | LRScheduler | ReduceLROnPlateau"

CACHE_ENV = "COURSE_RUN_CACHE"
TARGETS = (("course_utils.training", "fit"), ("course_utils.multiseed", "fit_seeds"))
NOT_IN_KEY = frozenset({"progress"})  # changes only what is shown while training, never the result
REAL = "__runcache_real__"  # a wrapper's attribute: the function it wraps
HIT_NOTE = f"(identical run found in ${CACHE_ENV}: restored its trained weights and history)"

PLAIN = (type(None), bool, int, float, complex, str, bytes, range, slice, type(Ellipsis), torch.dtype, torch.device,
         torch.memory_format, enum.Enum)
SCHEDULERS = (torch.optim.lr_scheduler.LRScheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
# objects of other classes are fingerprinted attribute by attribute only when they come from here (the
# notebook itself, course_utils); anything else, a DataLoader for instance, makes a call uncacheable
OPEN_MODULES = ("__main__", "course_utils")
MODULE_HOOKS = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks")


class Unfingerprintable(Exception):
    """An argument whose effect on the run cannot be captured: the call is not cached."""


class Fingerprint:
    """A walk over a call's arguments with two digests.

    ``key`` covers everything that determines the run. ``static`` covers everything except the state that
    the call may change and a hit restores (weights, optimizer and scheduler state, generators, the global
    random state): it must read the same after the real call, or the run is not stored. ``stateful`` lists
    the objects whose state a hit restores, in the order of the walk.
    """

    def __init__(self, memo: dict[int, tuple[torch.Tensor, int | None, str]] | None = None,
                 with_state: bool = True) -> None:
        self.key, self.static = hashlib.sha256(), hashlib.sha256()
        self.with_state = with_state
        self.seen: dict[int, str] = {}   # id of a mutable object -> where the walk met it first
        self.keep: list = []             # ... kept alive, so that no id is reused during the walk
        self.stateful: list[tuple[str, Stateful]] = []
        self.memo = {} if memo is None else memo  # id(tensor) -> (tensor, version, digest), within one call

    def put(self, *parts: object, state: bool = False) -> None:
        """Add each part (bytes as they are, anything else as its str), length first, to ``key``.

        Parts that are not ``state`` go into ``static`` too.
        """
        for part in parts:
            data = part if isinstance(part, bytes) else str(part).encode()
            data = f"{len(data)}:".encode() + data
            self.key.update(data)
            if not state:
                self.static.update(data)

    def call(self, function: Callable[..., object], bound: inspect.BoundArguments) -> Fingerprint:
        """Everything that determines ``function(*bound.args, **bound.kwargs)``."""
        self.put("call", function.__module__, function.__qualname__, code_version())
        for name, value in bound.arguments.items():
            if name not in NOT_IN_KEY:
                self.put("argument", name)
                self.walk(value, name)
        self.put("settings", torch.get_num_threads(), torch.are_deterministic_algorithms_enabled(),
                 torch.get_default_dtype(), torch.get_float32_matmul_precision(), torch.is_grad_enabled(),
                 torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark,
                 torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32)
        if self.with_state:  # dropout, and anything else not given a generator, draws from these
            self.put("global rng", tensor_digest(torch.get_rng_state()), state=True)
            for cuda_state in cuda_rng_states() or ():
                self.put("cuda rng", tensor_digest(cuda_state), state=True)
        return self

    def walk(self, value: object, path: str, state: bool = False) -> None:
        """Fingerprint ``value`` (met at ``path``); ``state``: it is state that a hit restores."""
        if isinstance(value, PLAIN):
            self.put(type(value).__qualname__, repr(value), state=state)
            return
        if isinstance(value, (tuple, frozenset)):
            self.put(type(value).__qualname__, len(value), state=state)
            items = sorted(value, key=repr) if isinstance(value, frozenset) else value
            for i, item in enumerate(items):
                self.walk(item, f"{path}[{i}]", state)
            return
        if id(value) in self.seen:  # the same object again (a model's parameter in its optimizer, say)
            self.put("same object as", self.seen[id(value)], state=state)
            return
        self.seen[id(value)] = path
        self.keep.append(value)
        if isinstance(value, torch.Tensor):
            self.tensor(value, state)
        elif isinstance(value, torch.Generator):
            self.put("Generator", value.device, state=state)
            if self.with_state:
                self.put(tensor_digest(value.get_state()), state=True)
            self.stateful.append(("generator", value))
        elif isinstance(value, nn.Module):
            self.module(value, path, state)
        elif isinstance(value, torch.optim.Optimizer):
            self.optimizer(value, path, state)
        elif isinstance(value, SCHEDULERS):
            self.scheduler(value, path, state)
        elif isinstance(value, (list, set, dict)):
            self.container(value, path, state)
        elif isinstance(value, np.ndarray):
            if value.dtype.hasobject:
                raise Unfingerprintable(f"{path}: a numpy array of Python objects")
            self.put("ndarray", value.dtype, value.shape, hashlib.sha256(np.ascontiguousarray(value)).hexdigest(),
                     state=state)
        elif isinstance(value, (types.FunctionType, types.BuiltinFunctionType, types.MethodType, functools.partial,
                                type)):
            self.callable(value, path, state)
        else:
            self.instance(value, path, state)

    def tensor(self, t: torch.Tensor, state: bool) -> None:
        """Type, dtype, shape, strides, device and requires_grad, then the values' digest (memoised per version)."""
        if t.layout != torch.strided or t.is_quantized or t.device.type == "meta":
            raise Unfingerprintable(f"a {t.layout} {t.dtype} tensor on {t.device}")
        self.put(type(t).__qualname__, t.dtype, tuple(t.shape), t.stride(), t.device.type, t.requires_grad,
                 state=state)
        if state and not self.with_state:
            return
        try:
            version = t._version
        except RuntimeError:  # an inference-mode tensor has no version counter: hashed every time
            version = None
        seen = self.memo.get(id(t))
        if version is not None and seen is not None and seen[0] is t and seen[1] == version:
            digest = seen[2]
        else:
            digest = tensor_digest(t)
            self.memo[id(t)] = (t, version, digest)
        self.put(digest, state=state)

    def module(self, model: nn.Module, path: str, state: bool) -> None:
        """Class and repr, every submodule's settings, weights and buffers (the weights are state)."""
        self.walk(type(model), f"{path}.__class__", state)
        self.put(repr(model), state=state)
        if any(getattr(nn.modules.module, f"_global{hooks}", None) for hooks in MODULE_HOOKS):
            raise Unfingerprintable("a global module hook is registered")
        for name, sub in model.named_modules(remove_duplicate=False):
            if any(getattr(sub, hooks, None) for hooks in MODULE_HOOKS):
                raise Unfingerprintable(f"{path}.{name} has hooks")
            self.put("submodule", name, type(sub).__module__, type(sub).__qualname__, state=state)
            for attr, value in sorted(vars(sub).items()):
                if not attr.startswith("_") and attr != "training":
                    self.walk(value, f"{path}.{name}.{attr}", state)
        for kind, named in (("parameter", model.named_parameters(remove_duplicate=False)),
                            ("buffer", model.named_buffers(remove_duplicate=False))):
            for name, tensor in named:
                self.put(kind, name, state=state)
                self.walk(tensor, f"{path}.{name}", state=True)  # which tensor is static; its values are state
        self.stateful.append(("module", model))

    def optimizer(self, optimizer: torch.optim.Optimizer, path: str, state: bool) -> None:
        """Class, which tensors each group trains, the groups' settings and the per-tensor state."""
        if any(v for k, v in vars(optimizer).items() if k.startswith("_optimizer") and k.endswith("hooks")):
            raise Unfingerprintable(f"{path} has hooks")
        self.walk(type(optimizer), f"{path}.__class__", state)
        self.walk(optimizer.defaults, f"{path}.defaults", state)
        for g, group in enumerate(optimizer.param_groups):
            self.put("group", g, len(group["params"]), state=state)
            for i, param in enumerate(group["params"]):
                self.walk(param, f"{path}.group{g}.params[{i}]", state)
            # settings (a scheduler changes lr) and state (momentum, Adam's averages) are restored on a hit
            self.walk({k: v for k, v in group.items() if k != "params"}, f"{path}.group{g}", state=True)
            for i, param in enumerate(group["params"]):
                self.walk(dict(optimizer.state.get(param, {})), f"{path}.group{g}.state[{i}]", state=True)
        self.stateful.append(("optimizer", optimizer))

    def scheduler(self, scheduler: LRScheduler | ReduceLROnPlateau, path: str, state: bool) -> None:
        """Class and attributes; those in its state_dict are state, the rest (lr_lambdas) settings."""
        self.walk(type(scheduler), f"{path}.__class__", state)
        saved = scheduler.state_dict()
        for attr, value in sorted(vars(scheduler).items()):
            self.put("attribute", attr, state=state)
            self.walk(value, f"{path}.{attr}", state or (attr in saved and saved[attr] is value))
        self.stateful.append(("scheduler", scheduler))

    def container(self, value: list | set | dict, path: str, state: bool) -> None:
        """Type and length, then every item in order (a set's items and a dict's keys sorted where they can be)."""
        self.put(type(value).__qualname__, len(value), state=state)
        if isinstance(value, dict):
            keys = list(value)
            if all(isinstance(k, (str, int, float)) for k in keys):
                keys.sort(key=lambda k: (type(k).__name__, k))
            for k in keys:
                self.walk(k, f"{path}.key", state)
                self.walk(value[k], f"{path}[{k!r}]", state)
            return
        items = sorted(value, key=repr) if isinstance(value, set) else value
        for i, item in enumerate(items):
            self.walk(item, f"{path}[{i}]", state)

    def callable(self, value: Callable[..., object] | type, path: str, state: bool) -> None:
        """Functions and classes by qualified name; Python functions and the notebook's classes also by code."""
        if isinstance(value, functools.partial):
            self.put("partial", state=state)
            for part, item in (("func", value.func), ("args", value.args), ("keywords", value.keywords)):
                self.walk(item, f"{path}.{part}", state)
            return
        if isinstance(value, types.MethodType):
            self.put("method", state=state)
            self.walk(value.__func__, f"{path}.__func__", state)
            self.walk(value.__self__, f"{path}.__self__", state)
            return
        module = getattr(value, "__module__", None)
        qualname = getattr(value, "__qualname__", getattr(value, "__name__", None))
        self.put(type(value).__qualname__, module, qualname, state=state)
        owner = getattr(value, "__self__", None)
        if isinstance(value, types.BuiltinFunctionType) and not isinstance(owner, (types.NoneType, types.ModuleType,
                                                                                    type)):
            self.walk(owner, f"{path}.__self__", state)  # a bound built-in method, like some_list.append
        if isinstance(value, types.FunctionType):
            self.put(code_digest(value.__code__), state=state)
            # the notebook's functions, and lambdas and local functions (which share names): also their
            # defaults and the values they closed over; a library function is its name and code
            if str(module).split(".")[0] in OPEN_MODULES or "<" in str(qualname):
                self.walk(value.__defaults__, f"{path}.__defaults__", state)
                self.walk(value.__kwdefaults__, f"{path}.__kwdefaults__", state)
                for i, cell in enumerate(value.__closure__ or ()):
                    self.walk(cell.cell_contents, f"{path}.__closure__[{i}]", state)
        elif isinstance(value, type) and module == "__main__":  # a class the notebook defines (and may redefine)
            for base in value.__bases__:
                self.walk(base, f"{path}.__bases__", state)
            for attr, member in sorted(vars(value).items()):
                if isinstance(member, (staticmethod, classmethod)):
                    member = member.__func__
                if isinstance(member, (types.FunctionType, property)) or isinstance(member, PLAIN):
                    self.put("member", attr, state=state)
                    self.walk(member.fget if isinstance(member, property) else member, f"{path}.{attr}", state)

    def instance(self, value: object, path: str, state: bool) -> None:
        """An object of the notebook's or course_utils' own classes: class, repr and every attribute."""
        cls = type(value)
        if not cls.__module__.split(".")[0] in OPEN_MODULES or hasattr(cls, "__next__") or inspect.isgenerator(value):
            raise Unfingerprintable(f"{path}: cannot tell what a {cls.__module__}.{cls.__qualname__} contributes")
        self.walk(cls, f"{path}.__class__", state)
        if cls.__repr__ is not object.__repr__:  # the default repr is only an address
            self.put(repr(value), state=state)
        attributes = dict(vars(value)) if hasattr(value, "__dict__") else {}
        for slot in (s for c in cls.__mro__ for s in getattr(c, "__slots__", ())):
            if hasattr(value, slot):
                attributes[slot] = getattr(value, slot)
        for attr, item in sorted(attributes.items()):
            self.put("attribute", attr, state=state)
            self.walk(item, f"{path}.{attr}", state)


def tensor_digest(t: torch.Tensor) -> str:
    """sha256 of a tensor's values, every byte of them."""
    data = t.detach().cpu().resolve_conj().resolve_neg().contiguous().reshape(-1)
    return hashlib.sha256(data.view(torch.uint8).numpy()).hexdigest()


def code_digest(code: types.CodeType) -> str:
    """A function's compiled code without where it was written (a notebook's cells get new file names)."""
    parts = [code.co_code, repr(code.co_names), repr(code.co_varnames), repr(code.co_freevars),
             repr((code.co_argcount, code.co_kwonlyargcount, code.co_posonlyargcount, code.co_flags))]
    for const in code.co_consts:
        parts.append(code_digest(const) if isinstance(const, types.CodeType) else repr(const))
    return hashlib.sha256(repr(parts).encode()).hexdigest()


@functools.cache
def code_version() -> str:
    """The course_utils source files and the torch version: a cache folder never outlives the code it ran."""
    package = Path(importlib.import_module("course_utils").__file__).parent
    digest = hashlib.sha256(torch.__version__.encode())
    for source in sorted(package.glob("*.py")):
        digest.update(source.name.encode() + source.read_bytes())
    return digest.hexdigest()


def cuda_rng_states() -> list[torch.Tensor] | None:
    """The CUDA generators' states once CUDA is in use (never initialises CUDA)."""
    return torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else None


def state_of(kind: str, obj: Stateful) -> dict[str, object]:
    """What a stateful object holds after the real call, as tensors, numbers and lists."""
    if kind == "module":
        return {"state_dict": obj.state_dict(), "training": [m.training for m in obj.modules()],
                "grads": [p.grad for p in obj.parameters()]}
    if kind == "generator":
        return {"state": obj.get_state()}
    return {"state_dict": obj.state_dict()}  # optimizer, scheduler


def restore_state(kind: str, obj: Stateful, saved: dict[str, object]) -> None:
    """Put ``obj`` back into the state that ``state_of`` saved."""
    if kind == "module":
        obj.load_state_dict(saved["state_dict"])
        for module, training in zip(obj.modules(), saved["training"], strict=True):
            module.training = training
        with torch.no_grad():
            for param, grad in zip(obj.parameters(), saved["grads"], strict=True):
                param.grad = None if grad is None else grad.to(param.device)
    elif kind == "generator":
        obj.set_state(saved["state"])
    else:
        obj.load_state_dict(saved["state_dict"])


def store(path: Path, result: object, stateful: list[tuple[str, Stateful]]) -> None:
    """Save the result and the state the call left behind; atomically, so a reader never sees half a file."""
    cls = type(result)
    payload = {"result_type": f"{cls.__module__}:{cls.__qualname__}", "result": dataclasses.asdict(result),
               "kinds": [kind for kind, _ in stateful], "states": [state_of(kind, obj) for kind, obj in stateful],
               "global_rng": torch.get_rng_state(), "cuda_rng": cuda_rng_states()}
    atomic_write(path, lambda f: torch.save(payload, f))


def restore(path: Path, stateful: list[tuple[str, Stateful]]) -> object:
    """Put every stateful object and the global random state where the stored run left them; its result."""
    saved = torch.load(path, weights_only=True)
    if saved["kinds"] != [kind for kind, _ in stateful]:
        raise RuntimeError(f"{path} was stored for other arguments")
    for (kind, obj), state in zip(stateful, saved["states"]):
        restore_state(kind, obj, state)
    torch.set_rng_state(saved["global_rng"])
    if saved["cuda_rng"] is not None:
        torch.cuda.set_rng_state_all(saved["cuda_rng"])
    module, qualname = saved["result_type"].split(":")
    cls = functools.reduce(getattr, qualname.split("."), importlib.import_module(module))
    print(HIT_NOTE)
    return cls(**saved["result"])


def cached(real: Callable[..., object]) -> Callable[..., object]:
    """``real`` with the run cache in front of it (while ``$COURSE_RUN_CACHE`` is set)."""
    signature = inspect.signature(real)

    @functools.wraps(real)
    def wrapper(*args: object, **kwargs: object) -> object:
        folder = os.environ.get(CACHE_ENV)
        if not folder:
            return real(*args, **kwargs)
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError:
            return real(*args, **kwargs)  # which raises the error a learner would see
        bound.apply_defaults()
        try:
            before = Fingerprint().call(real, bound)
        except Unfingerprintable:
            return real(*args, **kwargs)
        path = Path(folder) / f"{real.__name__}-{before.key.hexdigest()[:32]}.pt"
        if path.exists():
            return restore(path, before.stateful)
        result = real(*args, **kwargs)
        if dataclasses.is_dataclass(result) and not isinstance(result, type):
            try:
                after = Fingerprint(memo=before.memo, with_state=False).call(real, bound)
            except Unfingerprintable:
                after = None
            if after is not None and after.static.digest() == before.static.digest():
                store(path, result, before.stateful)
        return result

    setattr(wrapper, REAL, real)
    return wrapper


def _course_modules() -> list[types.ModuleType]:
    """course_utils and its submodules, as far as they are imported."""
    return [m for name, m in list(sys.modules.items())
            if m is not None and (name == "course_utils" or name.startswith("course_utils."))]


def install() -> list[str]:
    """Put the caching wrappers wherever course_utils binds ``fit`` and ``fit_seeds``; returns those names.

    Idempotent: a second call wraps nothing twice (it only rebinds names bound to a real function since).
    """
    importlib.import_module("course_utils")
    rebound = []
    for module_name, name in TARGETS:
        current = getattr(importlib.import_module(module_name), name)
        real = getattr(current, REAL, current)
        wrapper = current if current is not real else cached(real)
        for module in _course_modules():
            for attr, value in list(vars(module).items()):
                if value is real:
                    setattr(module, attr, wrapper)
                    rebound.append(f"{module.__name__}.{attr}")
    return rebound


def uninstall() -> None:
    """Put the real functions back (for the tests)."""
    for module in _course_modules():
        for attr, value in list(vars(module).items()):
            if hasattr(value, REAL):
                setattr(module, attr, getattr(value, REAL))
