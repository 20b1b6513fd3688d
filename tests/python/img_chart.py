"""The chart checks the Rust tests run, and the generator of manifests/base.

Everything here goes through independent, real tools: Helm itself (PyPI helm-python-sdk, which
embeds Helm's Go library) to lint and render the chart, and kubernetes-validate (the Kubernetes
OpenAPI schemas as JSON schemas) to validate what comes out. Each command prints one JSON
document on standard output; tests/tests/chart/ reads it. Run with the test virtualenv's
Python ($IMG_TEST_PYTHON, made by `source scripts/lib.sh && python_venv`):

    img_chart.py lint CHART [-f VALUES.yaml]... [--set-json JSON]
                                                   lint --strict; Helm's report
    img_chart.py render CHART [-f VALUES.yaml]... [--set-json JSON] [--name N] [--namespace NS]
                                                   {"notes", "objects": [{"template", "object"}]},
                                                   or {"error"} when Helm refuses the values
    img_chart.py validate KUBE_VERSION < objects.json
                                                   one verdict per object (see validate())
    img_chart.py manifests ROOT [--check|--report] writes ROOT/manifests/base; --check fails
                                                   when it is stale, --report only lists what is
"""

import argparse
import copy
import json
import os
import re
import sys

import helm_python as helm
import jsonschema
import kubernetes_validate
import yaml

# The release the plain manifests are rendered as.
MANIFESTS_RELEASE = "img"
MANIFESTS_NAMESPACE = "img-system"
# The CRD has its own directory (manifests/crd, written by scripts/gen-crd); the claims are
# kept by Kubernetes itself, so Helm's keep annotation has nothing to say there.
MANIFESTS_VALUES = {
    "crds": {"install": False},
    "persistence": {
        "images": {"keep": False},
        "baseDisk": {"keep": False},
        "packageCache": {"keep": False},
    },
}
# Helm's bookkeeping labels: they would claim the objects for Helm.
HELM_LABELS = ("helm.sh/chart", "app.kubernetes.io/managed-by")
HELM_LABEL_LINE = re.compile(r"^\s*(helm\.sh/chart: .*|app\.kubernetes\.io/managed-by: Helm)\n", re.M)


def merge(base, override):
    """`override` deep-merged into `base`, as Helm merges several values files."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def load_values(files, set_json):
    values = {}
    for path in files or []:
        with open(path) as f:
            values = merge(values, yaml.safe_load(f) or {})
    if set_json:
        values = merge(values, json.loads(set_json))
    return values


def lint(chart, values):
    # kube_version: the same Kubernetes the objects are validated against.
    return helm.lint(chart, values, strict=True, kube_version="v1.37.0")


def render_texts(chart, values, name, namespace):
    """{template path: rendered text}, as `helm template` would print it."""
    with helm.Chart.load(chart) as c:
        # The schema is checked by render too, but a separate call names the failing key.
        c.validate_schema(values)
        return c.render(values, name=name, namespace=namespace, is_install=True)


def documents(text):
    """The non-empty YAML documents of a rendered template."""
    return [d for d in yaml.safe_load_all(text) if d]


def render(chart, values, name, namespace):
    try:
        texts = render_texts(chart, values, name, namespace)
    except helm.HelmError as e:
        return {"error": str(e)}
    objects = []
    notes = ""
    for template in sorted(texts):
        if template.endswith("NOTES.txt"):
            notes = texts[template]
            continue
        for obj in documents(texts[template]):
            objects.append({"template": template, "object": obj})
    return {"notes": notes, "objects": objects}


def openapi_to_jsonschema(schema):
    """An OpenAPI v3 schema of a CRD as a JSON schema: `nullable` becomes a null type."""
    if isinstance(schema, list):
        return [openapi_to_jsonschema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: openapi_to_jsonschema(v) for k, v in schema.items()}
    if out.pop("nullable", False) and "type" in out:
        out["type"] = [out["type"], "null"]
    return out


def crd_validators(objects):
    """(group, version, kind) -> a validator, for every CRD among `objects`."""
    validators = {}
    for obj in objects:
        if obj.get("kind") != "CustomResourceDefinition":
            continue
        spec = obj["spec"]
        for version in spec["versions"]:
            schema = openapi_to_jsonschema(version["schema"]["openAPIV3Schema"])
            key = (spec["group"], version["name"], spec["names"]["kind"])
            validators[key] = jsonschema.Draft7Validator(schema)
    return validators


def validate(kube_version, objects):
    """One verdict per object: {"kind", "name", "how", "errors"}.

    `how` says what checked it: "kubernetes" (kubernetes-validate's strict schemas of that
    Kubernetes version: unknown fields are errors), "crd" (a custom resource against the
    openAPIV3Schema of its CRD, when that CRD is among the objects), or "none" (no schema is
    known here; the caller decides whether that is acceptable)."""
    validators = crd_validators(objects)
    verdicts = []
    for obj in objects:
        kind = obj.get("kind", "")
        name = obj.get("metadata", {}).get("name", "")
        group, _, version = obj.get("apiVersion", "").rpartition("/")
        verdict = {"kind": kind, "apiVersion": obj.get("apiVersion"), "name": name, "errors": []}
        if (group, version, kind) in validators:
            verdict["how"] = "crd"
            verdict["errors"] = [
                "%s: %s" % ("/".join(str(p) for p in e.absolute_path), e.message)
                for e in validators[(group, version, kind)].iter_errors(obj)
            ]
        else:
            try:
                kubernetes_validate.validate(obj, kube_version, strict=True)
                verdict["how"] = "kubernetes"
            except kubernetes_validate.SchemaNotFoundError:
                verdict["how"] = "none"
            except kubernetes_validate.ValidationError as e:
                verdict["how"] = "kubernetes"
                verdict["errors"] = ["%s: %s" % ("/".join(str(p) for p in e.path), e.message)]
        verdicts.append(verdict)
    return verdicts


def strip_helm_labels(obj):
    """`obj` without Helm's bookkeeping labels anywhere (object and Pod template labels)."""
    obj = copy.deepcopy(obj)

    def walk(node):
        if isinstance(node, dict):
            labels = node.get("labels")
            if isinstance(labels, dict):
                for label in HELM_LABELS:
                    labels.pop(label, None)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(obj)
    return obj


def manifest_files(chart):
    """{file name: text} of manifests/base: one file per template, without Helm's labels (the
    rendered text is kept, comments and all, minus those lines), a Namespace, and the
    kustomization listing them."""
    texts = render_texts(chart, MANIFESTS_VALUES, MANIFESTS_RELEASE, MANIFESTS_NAMESPACE)
    header = (
        "# Generated by scripts/gen-manifests from charts/img (release %r, namespace %r,\n"
        "# values: the defaults with crds.install=false); do not edit. A test fails when it drifts.\n"
        % (MANIFESTS_RELEASE, MANIFESTS_NAMESPACE)
    )
    files = {}
    for template in sorted(texts):
        base = os.path.basename(template)
        if base == "NOTES.txt":
            continue
        docs = []
        for doc in re.split(r"^---\s*$", texts[template], flags=re.M):
            if not documents(doc):
                continue
            stripped = HELM_LABEL_LINE.sub("", doc).strip("\n")
            # The line edit must equal removing the labels from the object.
            assert documents(stripped) == [strip_helm_labels(d) for d in documents(doc)], template
            docs.append(stripped + "\n")
        if docs:
            files[base] = header + "---\n".join(docs)
    files["namespace.yaml"] = header + yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": MANIFESTS_NAMESPACE,
                # Everything IMG runs here, runner Pods included, meets the restricted level.
                "labels": {"pod-security.kubernetes.io/enforce": "restricted"},
            },
        },
        sort_keys=False,
    )
    resources = ["../crd"] + sorted(files)
    files["kustomization.yaml"] = header + yaml.safe_dump(
        {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "namespace": MANIFESTS_NAMESPACE,
            "resources": resources,
        },
        sort_keys=False,
    )
    return files


def manifests(root, check):
    """Writes ROOT/manifests/base from ROOT/charts/img, or (check) reports the differences."""
    chart = os.path.join(root, "charts", "img")
    base = os.path.join(root, "manifests", "base")
    want = manifest_files(chart)
    have = {}
    if os.path.isdir(base):
        for name in os.listdir(base):
            with open(os.path.join(base, name)) as f:
                have[name] = f.read()
    stale = sorted(n for n in set(want) | set(have) if want.get(n) != have.get(n))
    if not check:
        os.makedirs(base, exist_ok=True)
        for name in stale:
            path = os.path.join(base, name)
            if name in want:
                with open(path, "w") as f:
                    f.write(want[name])
            else:
                os.remove(path)
    return {"base": base, "files": sorted(want), "stale": stale}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for command in ("lint", "render"):
        p = sub.add_parser(command)
        p.add_argument("chart")
        p.add_argument("-f", "--values", action="append", default=[])
        p.add_argument("--set-json")
    p.add_argument("--name", default="img")
    p.add_argument("--namespace", default="img-system")
    p = sub.add_parser("validate")
    p.add_argument("kube_version")
    p = sub.add_parser("manifests")
    p.add_argument("root")
    p.add_argument("--check", action="store_true")
    p.add_argument("--report", action="store_true")
    args = parser.parse_args()

    if args.command == "lint":
        out = lint(args.chart, load_values(args.values, args.set_json))
    elif args.command == "render":
        out = render(args.chart, load_values(args.values, args.set_json), args.name, args.namespace)
    elif args.command == "validate":
        out = validate(args.kube_version, json.load(sys.stdin))
    else:
        out = manifests(args.root, args.check or args.report)
        if args.check and out["stale"]:
            sys.exit("manifests/base is stale (%s): run scripts/gen-manifests" % ", ".join(out["stale"]))
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
