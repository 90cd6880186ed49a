"""What a Python file does, read from its syntax tree without running any of it.

Whether it calls backward (a script to run step by step) or does no autograd at all,
which of its ``nn.Module`` classes is the model (the one no other class builds), how
its own code builds that class and what tensors it passes to it: the guesses that
let a file open with no flags.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum

#: Calls that run backward: ``x.backward()``, ``torch.autograd.backward(...)``,
#: ``torch.autograd.grad(...)`` (also through ``autograd.grad`` / ``grad`` imported).
_GRAD_OWNERS = frozenset({"autograd", "torch.autograd"})
#: Names that show a file uses autograd even without calling backward.
_AUTOGRAD_WORDS = frozenset(
    {"requires_grad", "requires_grad_", "grad_fn", "Parameter", "autograd", "nn", "Module"}
)
#: torch functions that make a tensor of a given shape: name -> default dtype.
_MAKERS = {
    "randn": "float32",
    "rand": "float32",
    "zeros": "float32",
    "ones": "float32",
    "empty": "float32",
    "randint": "int64",
}


class FileKind(str, Enum):
    """How a ``.py`` file opens."""

    BUILD_MODEL = "build_model"  # the app's conventions
    CLASSES = "classes"  # nn.Module classes: one is built, its input guessed
    SCRIPT = "script"  # runs as ``python FILE``, paused at each backward call
    NO_AUTOGRAD = "no_autograd"  # no backward, no module, no requires_grad: nothing to draw


@dataclass(frozen=True)
class ClassCall:
    """Where the file's own code builds one of its classes: ``Net(10, hidden=32)``."""

    class_name: str
    text: str  # the call's source, evaluated later with the file's own names
    line: int
    variable: str = ""  # the name it is assigned to (``model = Net()``), if any


def backward_lines(tree: ast.AST) -> tuple[int, ...]:
    """The lines that call ``.backward()``, ``torch.autograd.backward`` or ``.grad``."""
    grad_names = _imported_grad_names(tree)
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "backward":
            lines.append(node.lineno)
        elif isinstance(func, ast.Attribute) and func.attr == "grad":
            if ast.unparse(func.value) in _GRAD_OWNERS:
                lines.append(node.lineno)
        elif isinstance(func, ast.Name) and func.id in grad_names:
            lines.append(node.lineno)
    return tuple(sorted(set(lines)))


def _imported_grad_names(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "torch.autograd":
            names |= {a.asname or a.name for a in node.names if a.name in ("grad", "backward")}
    return names


def mentions_autograd(tree: ast.AST) -> bool:
    """True when the file names anything of autograd or ``torch.nn``."""
    for node in ast.walk(tree):
        word = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", None)
        if word in _AUTOGRAD_WORDS:
            return True
        if isinstance(node, ast.keyword) and node.arg == "requires_grad":
            return True
    return False


def file_kind(has_build_model: bool, runs: bool, module_classes: int, tree: ast.Module) -> FileKind:
    """How the file opens: conventions first; a file that does work when run (``runs``)
    and calls backward is a script; one with model classes is a class file; one that
    runs and uses autograd (leaving tensors with a ``grad_fn``) is a script too; any
    other file does no autograd."""
    if has_build_model:
        return FileKind.BUILD_MODEL
    if runs and backward_lines(tree):
        return FileKind.SCRIPT
    if module_classes:
        return FileKind.CLASSES
    if runs and mentions_autograd(tree):
        return FileKind.SCRIPT
    return FileKind.NO_AUTOGRAD


def class_calls(tree: ast.Module, class_names: set[str]) -> tuple[ClassCall, ...]:
    """Every call of one of ``class_names`` outside class bodies (top level, the
    ``__main__`` block, functions), in file order."""
    found = []
    for node, variable in _calls_outside_classes(tree):
        func = node.func
        name = func.id if isinstance(func, ast.Name) else ""
        if name in class_names:
            found.append(ClassCall(name, ast.unparse(node), node.lineno, variable))
    return tuple(sorted(found, key=lambda c: c.line))


def _calls_outside_classes(tree: ast.Module) -> Iterator[tuple[ast.Call, str]]:
    stack: list[ast.AST] = [n for n in tree.body if not isinstance(n, ast.ClassDef)]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.ClassDef):
            continue
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            target = node.targets[0]
            variable = target.id if isinstance(target, ast.Name) else ""
            yield node.value, variable
            stack.extend(ast.iter_child_nodes(node.value))
            continue
        if isinstance(node, ast.Call):
            yield node, ""
        stack.extend(ast.iter_child_nodes(node))


def classes_built_by_classes(tree: ast.Module, class_names: set[str]) -> set[str]:
    """The classes of ``class_names`` some other class of the file builds (its
    layers: ``self.block = Block(config)``)."""
    built = set()
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        for inner in ast.walk(node):
            name = (
                inner.func.id
                if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name)
                else ""
            )
            if name in class_names and name != node.name:
                built.add(name)
    return built


def choose_model_class(tree: ast.Module, class_names: list[str]) -> tuple[str, str] | None:
    """The file's model among its ``nn.Module`` classes (in file order), and why:
    the classes no other class builds; of those, one the file's own code builds,
    else the last defined. None when there is no class."""
    if not class_names:
        return None
    built = classes_built_by_classes(tree, set(class_names))
    remaining = [c for c in class_names if c not in built] or class_names
    used = {c.class_name for c in class_calls(tree, set(remaining))}
    if len(remaining) == 1:
        return remaining[0], "the only nn.Module no other class of the file builds"
    if len(used) == 1:
        return used.pop(), "the nn.Module the file's own code builds"
    return remaining[-1], "the last nn.Module defined that no other class builds"


def compared_strings(tree: ast.Module, class_name: str) -> dict[str, tuple[str, ...]]:
    """The string literals the code of ``class_name`` compares a name with, in source
    order: ``rnn_type in ['LSTM', 'GRU']``, ``self.rnn_type == 'LSTM'`` and
    ``{'RNN_TANH': 'tanh'}[rnn_type]`` give ``{"rnn_type": ("LSTM", "GRU",
    "RNN_TANH")}`` (an attribute counts under its own name: a constructor keeps its
    argument as ``self.rnn_type``). The values such a parameter can take."""
    found: list[tuple[int, int, int, str, str]] = []  # ast.walk is not in source order
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name):
        for node in ast.walk(cls):
            for name, literals in _string_comparisons(node):
                at = (node.lineno, node.col_offset) if isinstance(node, ast.expr) else (0, 0)
                found += [(*at, i, name, text) for i, text in enumerate(literals)]
    by_name: dict[str, list[str]] = {}
    for *_where, name, text in sorted(found):
        if text not in by_name.setdefault(name, []):
            by_name[name].append(text)
    return {name: tuple(texts) for name, texts in by_name.items()}


def _string_comparisons(node: ast.AST) -> Iterator[tuple[str, list[str]]]:
    """(name, literals) for ``name == 'a'``, ``name in ('a', 'b')``, ``{'a': 1}[name]``."""
    pairs: list[tuple[ast.expr | None, list[ast.expr | None]]] = []
    if isinstance(node, ast.Compare):
        operands = [node.left, *node.comparators]
        for left, right in itertools.pairwise(operands):
            pairs += [(left, _elements(right)), (right, _elements(left))]
    elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Dict):
        pairs.append((node.slice, list(node.value.keys)))
    for named, elements in pairs:
        name, literals = _name_of(named), _strings(elements)
        if name and literals:
            yield name, literals


def _elements(node: ast.expr) -> list[ast.expr | None]:
    """The items of a list, tuple or set display; the node itself for anything else."""
    return list(node.elts) if isinstance(node, (ast.List, ast.Tuple, ast.Set)) else [node]


def _name_of(node: ast.expr | None) -> str:
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else ""


def _strings(nodes: list[ast.expr | None]) -> list[str]:
    """The texts when every node is a string literal, else none."""
    texts = [n.value for n in nodes if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    return texts if texts and len(texts) == len(nodes) else []


def constants(tree: ast.Module) -> dict[str, object]:
    """Module-level names bound to literals (``n_embd = 64``, ``B, T = 4, 8``)."""
    found: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = list(node.targets), node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        literal = _evaluate(value, found)
        for target in targets:
            found.update(_bind(target, literal))
    return {k: v for k, v in found.items() if v is not None}


def _bind(target: ast.expr, value: object) -> dict[str, object]:
    if isinstance(target, ast.Name):
        return {target.id: value}
    if not (isinstance(target, ast.Tuple) and isinstance(value, tuple)):
        return {}
    if len(value) != len(target.elts):
        return {}
    bound: dict[str, object] = {}
    for element, item in zip(target.elts, value, strict=True):
        bound.update(_bind(element, item))
    return bound


def passed_input_spec(tree: ast.Module, class_name: str) -> tuple[str, int] | None:
    """The input spec (``1x3x32x32:float32``) of a tensor the file builds with literal
    sizes and passes to an instance of ``class_name`` (``model(torch.randn(1, 3,
    32, 32))``, or through a variable), and that call's line."""
    known = constants(tree)
    instances = {c.variable for c in class_calls(tree, {class_name}) if c.variable}
    tensors: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, spec = node.targets[0], _maker_spec(node.value, known)
            if isinstance(target, ast.Name) and spec:
                tensors[target.id] = spec
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _calls_instance(node.func, instances) and node.args:
            specs = [_argument_spec(a, tensors, known) for a in node.args]
            if all(specs):
                return "; ".join(s for s in specs if s), node.lineno
    return None


def _calls_instance(func: ast.expr, instances: set[str]) -> bool:
    if isinstance(func, ast.Name):
        return func.id in instances
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "forward"
        and isinstance(func.value, ast.Name)
        and func.value.id in instances
    )


def _argument_spec(arg: ast.expr, tensors: dict[str, str], known: dict[str, object]) -> str:
    if isinstance(arg, ast.Name):
        return tensors.get(arg.id, "")
    return _maker_spec(arg, known)


def _maker_spec(value: ast.expr, known: dict[str, object]) -> str:
    """``torch.randn(1, 3, 32, 32)`` -> ``1x3x32x32:float32``; "" for anything else."""
    if not isinstance(value, ast.Call) or not isinstance(value.func, ast.Attribute):
        return ""
    name = value.func.attr
    if name not in _MAKERS or ast.unparse(value.func.value) != "torch":
        return ""
    args = [_evaluate(a, known) for a in value.args]
    dtype = _dtype(value, _MAKERS[name])
    if name == "randint":
        return _randint_spec(args, value, known, dtype)
    shape = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
    return _spec(shape, dtype)


def _randint_spec(args: list[object], call: ast.Call, known: dict[str, object], dtype: str) -> str:
    size = next((_evaluate(k.value, known) for k in call.keywords if k.arg == "size"), None)
    if size is None and args and isinstance(args[-1], (tuple, list)):
        size, args = args[-1], args[:-1]
    bounds = [a for a in args if isinstance(a, int)]
    low, high = (0, bounds[0]) if len(bounds) == 1 else tuple(bounds[:2]) if bounds else (0, 2)
    spec = _spec(size, dtype)
    return f"{spec}[{low},{high})" if spec else ""


def _spec(shape: object, dtype: str) -> str:
    if not isinstance(shape, (tuple, list)) or not shape:
        return ""
    if not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape):
        return ""
    return "x".join(str(d) for d in shape) + f":{dtype}"


def _dtype(call: ast.Call, default: str) -> str:
    for keyword in call.keywords:
        if keyword.arg == "dtype":
            return ast.unparse(keyword.value).rpartition(".")[2]  # torch.float64 -> float64
    return default


def _evaluate(node: ast.expr, known: dict[str, object]) -> object:
    """A literal, a module-level constant, or simple arithmetic of those; None else."""
    if isinstance(node, ast.Name):
        return known.get(node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Add, ast.FloorDiv)):
        left, right = _evaluate(node.left, known), _evaluate(node.right, known)
        if isinstance(left, int) and isinstance(right, int):
            if isinstance(node.op, ast.Mult):
                return left * right
            return left + right if isinstance(node.op, ast.Add) else left // max(right, 1)
        return None
    if isinstance(node, (ast.Tuple, ast.List)):
        return tuple(_evaluate(e, known) for e in node.elts)
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
