#!/usr/bin/env python3
"""Fails when files of one crate import each other in a circle.

For every crate given, each `src/**/*.rs` file is a module; an edge A -> B is a path
`crate::b…` or `super::…` in A's code (comments and `#[cfg(test)] mod tests` left out) that
names module B. The crate root only declares modules, so edges to it are ignored. Any cycle
is printed and the exit code is 1.
"""

import os
import re
import sys


def module_of(root, path):
    parts = os.path.relpath(path, root)[:-3].split(os.sep)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def code_of(path):
    text = open(path, encoding="utf-8").read()
    text = re.split(r"#\[cfg\(test\)\]\s*mod tests", text)[0]
    text = "\n".join(l for l in text.split("\n") if not l.strip().startswith("//"))
    # `crate::{a, b::c}` is `crate::a` and `crate::b::c`.
    return re.sub(
        r"\b(crate|super)::\{([^{}]*)\}",
        lambda m: " ".join(m.group(1) + "::" + p.strip() for p in m.group(2).split(",") if p.strip()),
        text,
    )


def edges_of(crate):
    root = os.path.join(crate, "src")
    modules = {}
    for folder, _, names in os.walk(root):
        for name in names:
            if name.endswith(".rs"):
                path = os.path.join(folder, name)
                modules[module_of(root, path)] = path
    edges = {m: set() for m in modules}
    for module, path in modules.items():
        for match in re.finditer(r"\b(crate|super)((?:::\w+)+)", code_of(path)):
            base = [] if match.group(1) == "crate" else list(module[:-1])
            target = None
            for name in match.group(2).split("::")[1:]:
                if tuple(base + [name]) not in modules:
                    break
                base.append(name)
                target = tuple(base)
            if target is None and match.group(1) == "super" and tuple(base) in modules:
                target = tuple(base)
            if target and target != module and target != ():
                edges[module].add(target)
    return edges


def cycles(edges):
    state, stack, found = {}, [], []

    def visit(u):
        state[u] = 1
        stack.append(u)
        for v in sorted(edges[u]):
            if state.get(v) == 1:
                found.append(stack[stack.index(v):] + [v])
            elif v not in state:
                visit(v)
        stack.pop()
        state[u] = 2

    for u in sorted(edges):
        if u not in state:
            visit(u)
    return found


def main():
    failed = False
    for crate in sys.argv[1:]:
        found = cycles(edges_of(crate))
        for cycle in found:
            print(f"{crate}: import circle: " + " -> ".join("::".join(m) for m in cycle))
        failed |= bool(found)
        if not found:
            print(f"{crate}: no import circle")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
