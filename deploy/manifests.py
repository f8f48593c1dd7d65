"""Checks of the Kubernetes manifests for deploy/validate.sh.

    manifests.py validate FILE...        every object of every file, strictly,
                                         after a self-test that bad objects fail
    manifests.py listed DIR...           each kustomization names every file beside it
    manifests.py mount RENDERED OUT      tollgate's volumes as the kubelet lays them out

`validate`: built-in kinds against kubernetes-validate's strict schemas
(unknown fields are errors); a ServiceMonitor against the Prometheus
Operator's CRD schema (the cloudcoil models, generated from the operator's
release bundle) with unknown fields forbidden. Any other kind is an error:
kubernetes-validate alone only warns about a kind it has no schema for, and
exits 0, so a typo in an apiVersion would pass unchecked.

`mount`: reads the output of `kubectl kustomize`, finds the Deployment
`tollgate`, and writes each volume of its container under OUT at the
container's mount path (OUT/etc/tollgate/config/identity.toml, ...), from
the ConfigMaps and Secrets of the same output: items at their paths, all
keys when a source has no items, a missing object or key an error unless
optional. In the TOML files written, each mount path is rewritten to its
place under OUT, so `tollgate check` reads what a pod would. Prints the
path of the --config file of the container's args.
"""

import base64
import os
import sys

import yaml

import kubernetes_validate


def custom_kinds():
    """Custom resources, each with a check against its CRD's schema.
    Imported here, not above: building the operator's models takes seconds."""
    import pydantic
    from cloudcoil.models.prometheus_operator import v1 as prometheus_operator

    def pydantic_model(model):
        def check(doc):
            try:
                model.model_validate(doc, extra="forbid")
                return []
            except pydantic.ValidationError as e:
                return [f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors()]
        return check

    return {
        ("monitoring.coreos.com/v1", "ServiceMonitor"): pydantic_model(prometheus_operator.ServiceMonitor),
    }


# Each must fail: an unknown field in a built-in kind and in a
# ServiceMonitor, a wrong type, a kind without any schema. Guards against a
# validator that quietly stopped being strict.
MUST_FAIL = """
apiVersion: v1
kind: Service
metadata: {name: unknown-field}
spec: {ports: [{port: 80}], selektor: {}}
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: unknown-field}
spec: {selector: {}, endpoints: [{port: management, intervall: 30s}]}
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: wrong-type}
spec: {selector: {}, endpoints: [{port: 9000}]}
---
apiVersion: example.com/v1
kind: Unknown
metadata: {name: no-schema}
"""


def documents(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def name_of(doc):
    return f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"


def problems_of(doc, version, custom):
    check = custom.get((doc.get("apiVersion"), doc.get("kind")))
    if check is not None:
        return check(doc)
    try:
        kubernetes_validate.validate(doc, version, strict=True)
        return []
    except kubernetes_validate.ValidationError as e:
        return [f"{'.'.join(str(p) for p in e.path)}: {e.message}"]
    except (kubernetes_validate.SchemaNotFoundError, kubernetes_validate.InvalidSchemaError) as e:
        return [f"{e.message}, and no CRD schema here either"]


def validate(paths):
    version = kubernetes_validate.latest_version()
    custom = custom_kinds()
    for doc in yaml.safe_load_all(MUST_FAIL):
        if not problems_of(doc, version, custom):
            sys.exit(f"self-test: {name_of(doc)} ({doc['metadata']['name']}) was accepted")
    failures = count = 0
    for path in paths:
        for doc in documents(path):
            count += 1
            problems = problems_of(doc, version, custom)
            for p in problems:
                print(f"ERROR {path}: {name_of(doc)}: {p}")
            failures += bool(problems)
    print(f"{count} objects in {len(paths)} files: {count - failures} valid "
          f"(strict, Kubernetes {version}), {failures} not")
    return 1 if failures else 0


def referenced_files(kustomization):
    """The files (not folders) a kustomization names."""
    files = set()
    for entry in kustomization.get("resources", []) + kustomization.get("components", []):
        files.add(entry)
    for patch in kustomization.get("patches", []) + kustomization.get("patchesStrategicMerge", []):
        if isinstance(patch, str):
            files.add(patch)
        elif "path" in patch:  # else an inline patch
            files.add(patch["path"])
    for generator in kustomization.get("configMapGenerator", []) + kustomization.get("secretGenerator", []):
        for entry in generator.get("files", []):
            files.add(entry.split("=", 1)[-1])
    return files


def listed(dirs):
    """Each kustomization names every manifest and data file beside it
    (.yaml, .toml, .json, .pem), so that none is silently left out of what
    gets applied."""
    failures = 0
    for d in dirs:
        with open(os.path.join(d, "kustomization.yaml")) as f:
            kustomization = yaml.safe_load(f)
        named = referenced_files(kustomization)
        for entry in sorted(os.listdir(d)):
            if entry == "kustomization.yaml" or not entry.endswith((".yaml", ".yml", ".toml", ".json", ".pem")):
                continue
            if entry not in named:
                print(f"ERROR {d}/{entry} is not named by {d}/kustomization.yaml")
                failures += 1
    return 1 if failures else 0


def mount(rendered, out):
    docs = documents(rendered)
    objects = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    deployment = objects.get(("Deployment", "tollgate"))
    if deployment is None:
        sys.exit(f"{rendered}: no Deployment tollgate")
    pod = deployment["spec"]["template"]["spec"]
    container = next(c for c in pod["containers"] if c["name"] == "tollgate")
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    problems = []

    def data_of(kind, name, optional):
        obj = objects.get((kind, name))
        if obj is None:
            if not optional:
                problems.append(f"{kind} {name} is not in the output")
            return None
        if kind == "Secret":
            data = {k: base64.b64decode(v) for k, v in (obj.get("data") or {}).items()}
            data.update({k: v.encode() for k, v in (obj.get("stringData") or {}).items()})
        else:
            data = {k: v.encode() for k, v in (obj.get("data") or {}).items()}
        return data

    def lay_out(folder, kind, source, mode):
        ref = source.get("name") or source.get("secretName")
        optional = source.get("optional", False)
        data = data_of(kind, ref, optional)
        if data is None:
            return
        items = source.get("items") or [{"key": k, "path": k} for k in data]
        for item in items:
            if item["key"] not in data:
                if not optional:
                    problems.append(f"{kind} {ref} has no key {item['key']}")
                continue
            path = os.path.join(folder, item["path"])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data[item["key"]])
            os.chmod(path, item.get("mode", mode))

    mounts = []
    for m in container.get("volumeMounts", []):
        if "subPath" in m:
            problems.append(f"volume {m['name']} is mounted with subPath: the kubelet never updates it")
        volume = volumes[m["name"]]
        folder = os.path.join(out, m["mountPath"].lstrip("/"))
        os.makedirs(folder, exist_ok=True)
        mounts.append((m["mountPath"].rstrip("/") + "/", folder + "/"))
        if "configMap" in volume:
            src = volume["configMap"]
            lay_out(folder, "ConfigMap", src, src.get("defaultMode", 0o644))
        elif "secret" in volume:
            src = volume["secret"]
            lay_out(folder, "Secret", src, src.get("defaultMode", 0o644))
        elif "projected" in volume:
            mode = volume["projected"].get("defaultMode", 0o644)
            for source in volume["projected"]["sources"]:
                if "configMap" in source:
                    lay_out(folder, "ConfigMap", source["configMap"], mode)
                elif "secret" in source:
                    lay_out(folder, "Secret", source["secret"], mode)
                else:
                    problems.append(f"volume {m['name']}: a projected source this check does not lay out: {source}")
        else:
            problems.append(f"volume {m['name']}: a kind of volume this check does not lay out")
    if problems:
        sys.exit("\n".join(f"{rendered}: {p}" for p in problems))

    # Point the absolute paths of the TOML files at the folders just made.
    for base, _dirs, names in os.walk(out):
        for n in names:
            if n.endswith(".toml"):
                path = os.path.join(base, n)
                with open(path) as f:
                    text = f.read()
                for mount_path, folder in mounts:
                    text = text.replace(f'"{mount_path}', f'"{folder}')
                os.chmod(path, 0o644)
                with open(path, "w") as f:
                    f.write(text)

    args = container.get("args", [])
    config = args[args.index("--config") + 1]
    print(os.path.join(out, config.lstrip("/")))
    return 0


def main(argv):
    if len(argv) >= 2 and argv[0] == "validate":
        return validate(argv[1:])
    if len(argv) >= 2 and argv[0] == "listed":
        return listed(argv[1:])
    if len(argv) == 3 and argv[0] == "mount":
        return mount(argv[1], argv[2])
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
