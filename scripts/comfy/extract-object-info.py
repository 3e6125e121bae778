#!/usr/bin/env python3
"""Builds the ComfyUI double's object_info fixture from the pinned node-pack sources.

usage: extract-object-info.py --pack NAME=DIR ... [--out FILE] [--source FILE]

Each DIR is a checkout (or `git archive` export) of that pack at the commit compose/comfyui-pins.tsv pins;
NAME is the pack's name there. Nothing is imported or run: INPUT_TYPES, RETURN_TYPES, RETURN_NAMES,
OUTPUT_NODE and CATEGORY of the node classes the face workflow uses are read from the Python syntax
tree and evaluated where they are literals, module constants, or calls of small helper functions
(comfyui_controlnet_aux's INPUT.* and define_preprocessor_inputs) whose bodies are one `return`.
ComfyUI's own classes come from scripts/comfy/core-nodes.json (written by hand; see its $comment).
`folder_paths.get_filename_list(x)` becomes the manifest's files of folder x (compose/models/manifest.tsv).
Not needed at test time: the output is committed (testkit/fixtures/comfyui/).
"""
import argparse
import ast
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# (pack, module file, python module, class in the file, name in NODE_CLASS_MAPPINGS, helper modules)
TARGETS = [
    ("ComfyUI_IPAdapter_plus", "IPAdapterPlus.py", "custom_nodes.ComfyUI_IPAdapter_plus", "IPAdapterUnifiedLoaderFaceID", "IPAdapterUnifiedLoaderFaceID", []),
    ("ComfyUI_IPAdapter_plus", "IPAdapterPlus.py", "custom_nodes.ComfyUI_IPAdapter_plus", "IPAdapterFaceID", "IPAdapterFaceID", []),
    ("ComfyUI_IPAdapter_plus", "IPAdapterPlus.py", "custom_nodes.ComfyUI_IPAdapter_plus", "IPAdapterModelLoader", "IPAdapterModelLoader", []),
    ("ComfyUI_essentials", "mask.py", "custom_nodes.ComfyUI_essentials", "MaskBoundingBox", "MaskBoundingBox+", []),
    ("comfyui_controlnet_aux", "node_wrappers/dwpose.py", "custom_nodes.comfyui_controlnet_aux", "DWPose_Preprocessor", "DWPreprocessor", ["utils.py"]),
    ("comfyui_controlnet_aux", "node_wrappers/pidinet.py", "custom_nodes.comfyui_controlnet_aux", "PIDINET_Preprocessor", "PiDiNetPreprocessor", ["utils.py"]),
    ("ComfyUI-KJNodes", "nodes/image_nodes.py", "custom_nodes.ComfyUI-KJNodes", "ColorMatch", "ColorMatch", []),
]


class Unsupported(Exception):
    pass


class Folder:
    def __init__(self, name):
        self.name = name


class Module:
    """One parsed source file: its top-level functions, classes and constant assignments."""

    def __init__(self, path, helpers=()):
        with open(path, encoding="utf-8") as f:
            self.tree = ast.parse(f.read(), path)
        self.path = path
        self.defs = {}
        self.assigns = {}
        for node in self.tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                self.defs[node.name] = node
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                self.assigns[node.targets[0].id] = node.value
        self.helpers = list(helpers)

    def lookup(self, name):
        for m in [self] + self.helpers:
            if name in m.assigns:
                return m, m.assigns[name]
            if name in m.defs:
                return m, m.defs[name]
        raise Unsupported(f"name {name} not found in {self.path}")


def evaluate(mod, node, scope):
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [evaluate(mod, e, scope) for e in node.elts]
        return items if isinstance(node, ast.List) else tuple(items)
    if isinstance(node, ast.Dict):
        out = {}
        for k, v in zip(node.keys, node.values):
            if k is None:
                out.update(evaluate(mod, v, scope))
            else:
                out[evaluate(mod, k, scope)] = evaluate(mod, v, scope)
        return out
    if isinstance(node, ast.Name):
        if node.id in scope:
            return scope[node.id]
        owner, value = mod.lookup(node.id)
        if isinstance(value, (ast.FunctionDef, ast.ClassDef)):
            return (owner, value)
        return evaluate(owner, value, {})
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return evaluate(mod, node.left, scope) + evaluate(mod, node.right, scope)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -evaluate(mod, node.operand, scope)
    if isinstance(node, ast.Subscript):
        return evaluate(mod, node.value, scope)[evaluate(mod, node.slice, scope)]
    if isinstance(node, ast.IfExp):
        return evaluate(mod, node.body if evaluate(mod, node.test, scope) else node.orelse, scope)
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        a, b = evaluate(mod, node.left, scope), evaluate(mod, node.comparators[0], scope)
        op = node.ops[0]
        if isinstance(op, ast.Is):
            return a is b
        if isinstance(op, ast.IsNot):
            return a is not b
        if isinstance(op, ast.Eq):
            return a == b
        raise Unsupported(ast.dump(op))
    if isinstance(node, ast.Call):
        return call(mod, node, scope)
    raise Unsupported(f"{type(node).__name__} at {mod.path}:{getattr(node, 'lineno', '?')}")


def call(mod, node, scope):
    args = [evaluate(mod, a, scope) for a in node.args]
    kwargs = {}
    for k in node.keywords:
        if k.arg is None:
            kwargs.update(evaluate(mod, k.value, scope))
        else:
            kwargs[k.arg] = evaluate(mod, k.value, scope)
    f = node.func
    if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "folder_paths" and f.attr == "get_filename_list":
        return Folder(args[0])
    if isinstance(f, ast.Name) and f.id == "dict":
        return dict(*args, **kwargs)
    if isinstance(f, ast.Name):
        owner, fdef = mod.lookup(f.id)
    elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
        owner, cls = mod.lookup(f.value.id)
        fdef = next((n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == f.attr), None)
        if fdef is None:
            raise Unsupported(f"{f.value.id}.{f.attr}")
    else:
        raise Unsupported(ast.dump(f))
    return run_function(owner, fdef, args, kwargs)


def run_function(mod, fdef, args, kwargs):
    params = fdef.args
    names = [a.arg for a in params.args]
    defaults = params.defaults
    scope = {}
    for i, name in enumerate(names):
        if i < len(args):
            scope[name] = args[i]
        elif name in kwargs:
            scope[name] = kwargs.pop(name)
        else:
            d = len(names) - len(defaults)
            if i < d:
                raise Unsupported(f"missing argument {name} of {fdef.name}")
            scope[name] = evaluate(mod, defaults[i - d], {})
    if params.kwarg:
        scope[params.kwarg.arg] = kwargs
    body = [n for n in fdef.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
    if len(body) != 1 or not isinstance(body[0], ast.Return):
        raise Unsupported(f"{fdef.name} is not a single return")
    return evaluate(mod, body[0].value, scope)


def class_attr(mod, cls, name):
    """A class attribute, looked up through base classes defined in the same module."""
    for n in cls.body:
        if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in n.targets):
            return evaluate(mod, n.value, {})
        if isinstance(n, ast.FunctionDef) and n.name == name:
            return run_function(mod, n, [None], {})
    for base in cls.bases:
        if isinstance(base, ast.Name) and base.id in mod.defs:
            found = class_attr(mod, mod.defs[base.id], name)
            if found is not None:
                return found
    return None


def spec_json(value, bindings, class_type, input_name):
    """An INPUT_TYPES entry as /object_info serialises it; model lists become manifest folders."""
    value = list(value)
    if isinstance(value[0], Folder):
        bindings.append({"classType": class_type, "input": input_name, "folder": value[0].name})
        value[0] = []
    elif isinstance(value[0], tuple):
        value[0] = list(value[0])
    return value


def entry(class_type, module, python_module, required, optional, output, output_name, output_node, category, bindings):
    req = {k: spec_json(v, bindings, class_type, k) for k, v in required.items()}
    opt = {k: spec_json(v, bindings, class_type, k) for k, v in optional.items()}
    return {
        "input": {"required": req, "optional": opt} if opt else {"required": req},
        "input_order": {"required": list(req), **({"optional": list(opt)} if opt else {})},
        "output": list(output),
        "output_is_list": [False] * len(output),
        "output_name": list(output_name or output),
        "name": class_type,
        "display_name": class_type,
        "description": "",
        "python_module": python_module,
        "category": category,
        "output_node": bool(output_node),
    }


def read_manifest():
    files = {}
    with open(os.path.join(ROOT, "compose/models/manifest.tsv"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            folder, name = line.split("\t")[:2]
            files.setdefault(folder, []).append(name)
    return files


def read_pins():
    pins = {}
    with open(os.path.join(ROOT, "compose/comfyui-pins.tsv"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            name, repo, commit = line.split("\t")[:3]
            pins[name] = {"repository": repo, "commit": commit}
    return pins


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pack", action="append", default=[], help="NAME=DIR of a pack checkout at its pinned commit")
    parser.add_argument("--out", default=os.path.join(ROOT, "testkit/fixtures/comfyui/object_info.json"))
    parser.add_argument("--source", default=os.path.join(ROOT, "testkit/fixtures/comfyui/object_info.source.json"))
    args = parser.parse_args()
    dirs = dict(p.split("=", 1) for p in args.pack)
    pins = read_pins()
    missing = sorted({t[0] for t in TARGETS} - set(dirs))
    if missing:
        sys.exit(f"missing --pack for {', '.join(missing)}")

    bindings = []
    info = {}
    with open(os.path.join(ROOT, "scripts/comfy/core-nodes.json"), encoding="utf-8") as f:
        core = json.load(f)
    for class_type, c in core.items():
        if class_type.startswith("$"):
            continue
        req = {k: [Folder(v[0]["$folder"])] + v[1:] if isinstance(v[0], dict) else v for k, v in c["required"].items()}
        opt = {k: [Folder(v[0]["$folder"])] + v[1:] if isinstance(v[0], dict) else v for k, v in c["optional"].items()}
        info[class_type] = entry(class_type, None, c["python_module"], req, opt, c["output"], c["output_name"], c["output_node"], c["category"], bindings)

    modules = {}
    for pack, path, python_module, cls_name, class_type, helper_paths in TARGETS:
        key = (pack, path)
        if key not in modules:
            helpers = [Module(os.path.join(dirs[pack], h)) for h in helper_paths]
            modules[key] = Module(os.path.join(dirs[pack], path), helpers)
        mod = modules[key]
        cls = mod.defs.get(cls_name)
        if cls is None:
            sys.exit(f"{pack}/{path}: no class {cls_name}")
        types = class_attr(mod, cls, "INPUT_TYPES")
        output = class_attr(mod, cls, "RETURN_TYPES") or ()
        names = class_attr(mod, cls, "RETURN_NAMES")
        info[class_type] = entry(
            class_type, mod, python_module, types.get("required", {}), types.get("optional", {}), output, names,
            class_attr(mod, cls, "OUTPUT_NODE"), class_attr(mod, cls, "CATEGORY") or "", bindings,
        )

    files = read_manifest()
    for b in bindings:
        node = info[b["classType"]]
        for section in node["input"].values():
            if b["input"] in section and b["folder"] != "input":
                section[b["input"]][0] = sorted(files.get(b["folder"], []))

    commits = {}
    for pack in sorted({t[0] for t in TARGETS}):
        head = subprocess.run(["git", "-C", dirs[pack], "rev-parse", "HEAD"], capture_output=True, text=True)
        at = head.stdout.strip() if head.returncode == 0 else None
        if at and at != pins[pack]["commit"]:
            sys.exit(f"{pack}: the checkout is at {at}, the pin is {pins[pack]['commit']}")
        commits[pack] = pins[pack]
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(info, f, indent=1, sort_keys=True)
        f.write("\n")
    source = {
        "generatedBy": "scripts/comfy/extract-object-info.py",
        "packs": commits,
        "extractedClasses": {t[4]: f"{t[0]}/{t[1]} class {t[3]}" for t in TARGETS},
        "comfyui": {
            **pins["comfyui"],
            "classes": sorted(k for k in core if not k.startswith("$")),
            "method": "written by hand from reading ComfyUI's sources (scripts/comfy/core-nodes.json), not extracted",
        },
        "folderInputs": bindings,
        "modelLists": "filled from compose/models/manifest.tsv; LoadImage's list is left empty (the input folder)",
    }
    with open(args.source, "w", encoding="utf-8") as f:
        json.dump(source, f, indent=1)
        f.write("\n")
    print(f"wrote {len(info)} classes to {os.path.relpath(args.out, ROOT)}")


if __name__ == "__main__":
    main()
