#!/usr/bin/env python3
"""The layering check: top-level modules of src/ import each other only downwards.

Every `crate::NAME` path in src/ (in `use` lines and in code, grouped imports
included) is an edge from the file's top-level module to NAME. The check fails when
the edges form a cycle, or when a module imports one on a higher layer than its own.
LAYERS below is the architecture in one place: a new top-level module must be given
a layer before the check passes.

Usage: scripts/check_layers.py [SRC_DIR]    (exit 1 on a violation)
       scripts/check_layers.py --self-test  (proves it catches a cycle and an upward import)
"""

import pathlib
import re
import sys

# Lowest first. A module may import modules of lower layers only; modules of one
# layer do not know each other.
LAYERS = [
    ["secret", "hex", "backoff", "workers", "shutdown"],
    ["model"],
    ["pool", "delivery"],
    ["hypervisor", "store", "security"],
    ["http", "amqp", "events", "host", "inventory"],
    ["webhook", "telemetry", "console"],
    ["grpc"],
    ["config"],
    ["app", "cli"],
    ["lib", "main", "bin"],
]
LAYER_OF = {name: index for index, names in enumerate(LAYERS) for name in names}
CRATE_PATH = re.compile(r"\bcrate::(\{|[a-z_][a-z0-9_]*)")


def strip_comments(text):
    """Drops // comments (doc comments included) and string literals."""
    text = re.sub(r'"(\\.|[^"\\])*"', '""', text)
    return "\n".join(line.split("//", 1)[0] for line in text.splitlines())


def grouped_names(text, start):
    """The first path segment of each item in `crate::{...}` opening at `start`."""
    depth, item, names = 0, "", []
    for char in text[start:]:
        if char == "{":
            depth += 1
            if depth == 1:
                continue
        elif char == "}":
            depth -= 1
            if depth == 0:
                names.append(item)
                break
        if depth == 1 and char == ",":
            names.append(item)
            item = ""
        elif depth >= 1:
            item += char
    return [re.split(r"[^a-z0-9_]", n.strip(), maxsplit=1)[0] for n in names if n.strip()]


def module_of(path, src):
    parts = path.relative_to(src).parts
    return parts[0][:-3] if len(parts) == 1 else parts[0]


def edges(src):
    found = {}
    for path in sorted(src.rglob("*.rs")):
        module = module_of(path, src)
        text = strip_comments(path.read_text())
        for match in CRATE_PATH.finditer(text):
            if match.group(1) == "{":
                targets = grouped_names(text, match.start(1))
            else:
                targets = [match.group(1)]
            for target in targets:
                if target and target != module and target != "self":
                    found.setdefault((module, target), path.relative_to(src.parent))
    return found


def cycles(graph):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, result, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for succ in graph.get(node, ()):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return result


def problems_in(src):
    found = edges(src)
    graph = {}
    for module, target in found:
        graph.setdefault(module, set()).add(target)
    problems = []
    modules = {module_of(p, src) for p in src.rglob("*.rs")}
    for module in sorted(modules - LAYER_OF.keys()):
        problems.append(f"src/{module}: not in any layer of scripts/check_layers.py")
    for (module, target), where in sorted(found.items()):
        if module in LAYER_OF and target in LAYER_OF and LAYER_OF[target] >= LAYER_OF[module]:
            problems.append(
                f"{where}: {module} (layer {LAYER_OF[module]}) imports {target} "
                f"(layer {LAYER_OF[target]}): imports must point to a lower layer"
            )
    for component in cycles(graph):
        problems.append("import cycle between top-level modules: " + " <-> ".join(component))
    return problems, len(modules), len(found)


def self_test():
    """A tree with an upward import (store -> grpc) and a cycle (grpc <-> store)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        src = pathlib.Path(tmp) / "src"
        (src / "store").mkdir(parents=True)
        (src / "grpc").mkdir()
        (src / "store" / "mod.rs").write_text("use crate::{model::A, grpc::{pb, Api}};\n")
        (src / "grpc" / "mod.rs").write_text("// crate::app in a comment is no import\nuse crate::store;\n")
        (src / "model.rs").write_text("pub struct A;\n")
        problems, _, _ = problems_in(src)
    upward = any("store (layer 3) imports grpc" in p for p in problems)
    cycle = any("cycle" in p and "grpc" in p and "store" in p for p in problems)
    clean = not any("app" in p or "model" in p for p in problems)
    if upward and cycle and clean:
        print("layering check self-test: an upward import and a cycle are caught")
        return 0
    print("layering check self-test FAILED:", problems)
    return 1


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    src = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "src")
    problems, modules, imports = problems_in(src)
    if problems:
        print("layering check failed:")
        for problem in problems:
            print("  " + problem)
        return 1
    print(f"layering check: {modules} top-level modules, {imports} imports, all downwards")
    return 0


if __name__ == "__main__":
    sys.exit(main())
