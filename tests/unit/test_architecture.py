"""Import rules, read from the source with ``ast`` (nothing is imported to check them):

- the pure modules (contracts, domain logic, export and notice formats, text, webhook signing, money,
  countries) import no I/O library, and neither does any project module they import, directly or
  through others;
- no service imports another service: services talk over the broker and HTTP, never in-process;
- no module under services/ or shared/ is longer than 400 lines.

See docs/architecture.md ("Code layout") for why.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("services", "shared")
MAX_LINES = 400

IO_LIBRARIES = (
    "asyncpg", "aiohttp", "aio_pika", "aiormq", "faststream", "asyncssh", "aiosmtplib", "httpx", "requests",
    "urllib.request", "socket", "subprocess",
)  # fmt: skip

PURE_MODULES = (
    "shared/contracts/**/*.py",
    "services/intake/domain.py",
    "services/intake/holds.py",
    "services/intake/status_order.py",
    "services/intake/ship_to.py",
    "services/splitter/catalog_csv.py",
    "services/splitter/routing/*.py",
    "services/tracking/fulfilment.py",
    "services/shipstation/xml_export.py",
    "services/shipstation/withdrawals.py",
    "services/shipstation/acknowledgements.py",
    "services/shipstation/shipnotice.py",
    "services/shipstation/timezones.py",
    "services/shipstation/credentials.py",
    "services/gateway/formats/*.py",
    "services/gateway/x12/*.py",
    "services/gateway/connections.py",
    "services/gateway/vendor_answers.py",
    "services/gateway/ports.py",
    "services/intake/order_search.py",
    "shared/messaging/linger.py",
    "services/console/sessions.py",
    "services/console/views.py",
    "services/channels/ports.py",
    "shared/messaging/nodes.py",
    "services/channels/signatures.py",
    "services/channels/requests.py",
    "services/channels/shopify/__init__.py",
    "services/channels/shopify/orders.py",
    "services/channels/shopify/carriers.py",
    "services/channels/shopify/fulfillment.py",
    "services/channels/shopify/graphql.py",
    "services/channels/shopify/reconcile.py",
    "services/channels/shopify/bucket.py",
    "services/channels/woocommerce/__init__.py",
    "services/channels/woocommerce/orders.py",
    "services/channels/woocommerce/addresses.py",
    "services/channels/woocommerce/tracking.py",
    "services/channels/woocommerce/stock.py",
    "services/channels/woocommerce/webhooks.py",
    "shared/text.py",
    "shared/webhooks.py",
    "shared/money.py",
    "shared/countries.py",
)
OPTIONAL_PURE_MODULES = {"shared/text.py", "shared/webhooks.py"}
"""Listed before they exist; checked as soon as they do."""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def project_modules() -> dict[str, Path]:
    """Every module under services/ and shared/, by dotted name."""
    return {_module_name(path): path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))}


def _is_type_checking_block(node: ast.AST) -> bool:
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node, leaving out ``if TYPE_CHECKING:`` blocks (those imports never run)."""
    for child in ast.iter_child_nodes(tree):
        if _is_type_checking_block(child):
            assert isinstance(child, ast.If)
            for node in child.orelse:
                yield node
                yield from _nodes(node)
            continue
        yield child
        yield from _nodes(child)


@dataclass(frozen=True)
class Import:
    name: str
    line: int


@cache
def imports_of(module: str) -> tuple[Import, ...]:
    """What ``module`` imports, anywhere in its body (functions too), as absolute dotted names. A
    ``from package import name`` counts as importing ``package.name`` when that is a module."""
    path = project_modules()[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []
    for node in _nodes(tree):
        if isinstance(node, ast.Import):
            found += [Import(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, node.module] if node.module else anchor)
            else:
                base = node.module or ""
            found.append(Import(base, node.lineno))
            for alias in node.names:
                if f"{base}.{alias.name}" in project_modules():
                    found.append(Import(f"{base}.{alias.name}", node.lineno))
    return tuple(found)


def _loaded_with(name: str) -> list[str]:
    """The project modules that importing ``name`` runs: it and every package above it."""
    parts = name.split(".")
    return [m for m in (".".join(parts[:i]) for i in range(1, len(parts) + 1)) if m in project_modules()]


def _is_io(name: str) -> bool:
    return any(name == library or name.startswith(f"{library}.") for library in IO_LIBRARIES)


def io_imports(start: str) -> list[str]:
    """Each I/O import reachable from ``start`` through project modules, as 'chain: import (file:line)'."""
    problems: list[str] = []
    seen: set[str] = set()
    queue: list[tuple[str, tuple[str, ...]]] = [(m, ()) for m in _loaded_with(start)]
    while queue:
        module, via = queue.pop(0)
        if module in seen:
            continue
        seen.add(module)
        chain = (*via, module)
        for imported in imports_of(module):
            if _is_io(imported.name):
                where = project_modules()[module].relative_to(ROOT)
                problems.append(f"{' -> '.join(chain)} imports {imported.name} ({where}:{imported.line})")
            for loaded in _loaded_with(imported.name):
                if loaded not in seen:
                    queue.append((loaded, chain))
    return problems


def pure_modules() -> list[str]:
    found: list[str] = []
    for pattern in PURE_MODULES:
        paths = sorted(ROOT.glob(pattern))
        if not paths and pattern not in OPTIONAL_PURE_MODULES:
            raise AssertionError(f"pure module {pattern} does not exist; update PURE_MODULES")
        found += [_module_name(path) for path in paths]
    return found


@pytest.mark.parametrize("module", pure_modules())
def test_pure_modules_do_no_io(module: str) -> None:
    problems = io_imports(module)
    assert not problems, f"pure module {module} reaches an I/O library:\n  " + "\n  ".join(problems)


def test_the_io_check_follows_project_imports() -> None:
    # The runtime does I/O itself and through shared.db: both show, the second with its chain.
    problems = io_imports("shared.service")
    assert any(problem.startswith("shared.service imports asyncpg") for problem in problems), problems
    assert any(problem.startswith("shared.service -> shared.db imports asyncpg") for problem in problems), problems


def _services() -> list[str]:
    return sorted(path.name for path in (ROOT / "services").iterdir() if (path / "__init__.py").is_file())


@pytest.mark.parametrize("service", _services())
def test_no_service_imports_another(service: str) -> None:
    problems = []
    for module in sorted(project_modules()):
        if module != f"services.{service}" and not module.startswith(f"services.{service}."):
            continue
        for imported in imports_of(module):
            parts = imported.name.split(".")
            if parts[0] == "services" and len(parts) > 1 and parts[1] != service:
                where = project_modules()[module].relative_to(ROOT)
                problems.append(f"{module} imports {imported.name} ({where}:{imported.line})")
    assert not problems, f"service {service} imports another service:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("module", sorted(project_modules()))
def test_modules_stay_short(module: str) -> None:
    path = project_modules()[module]
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{module} ({path.relative_to(ROOT)}) has {lines} lines; split it (at most {MAX_LINES})"
