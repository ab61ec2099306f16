#!/usr/bin/env python3
"""Static checks of deploy/Dockerfile (no Docker engine needed).

  check_dockerfile.py [--dockerfile PATH] [--install-deps PATH] [--build-dir DIR]

- multi-stage; build stage FROM debian:12, runtime (last) stage FROM debian:12-slim;
- the runtime stage runs as a numeric non-root USER, exposes 9464, has vigil-detector as
  ENTRYPOINT and copies the installed tree from the build stage;
- the runtime stage installs no -dev packages and no compilers;
- every package the Dockerfile installs exists in Debian 12 (`apt-cache show` on this machine);
- the build stage installs only packages that deploy/install-deps.sh lists (one source of truth);
- every shared library that the locally built binaries (BUILD_DIR/services/*/vigil-*) load,
  per `ldd`, belongs (`dpkg -S`) to a package the runtime stage installs or pulls in through
  Depends (skipped, with a message, when there is no build).

Exit 0 when all pass, 1 with one line per problem otherwise.
"""
import argparse
import glob
import os
import re
import shlex
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# Packages that must never be in a runtime image.
BUILD_ONLY = {"build-essential", "cmake", "ninja-build", "pkg-config", "gcc", "g++", "make",
              "clang", "git", "libc6-dev", "libstdc++-12-dev"}


def parse_dockerfile(path):
    """Returns [(instruction, argument_text, line_no)], continuations joined, comments dropped."""
    out, buf, start = [], "", 0
    with open(path, encoding="utf-8") as f:
        for no, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not buf and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if buf and line.lstrip().startswith("#"):
                continue  # comment inside a continued instruction
            if not buf:
                start = no
            if line.endswith("\\"):
                buf += line[:-1] + " "
                continue
            buf += line
            parts = buf.strip().split(None, 1)
            out.append((parts[0].upper(), parts[1] if len(parts) > 1 else "", start))
            buf = ""
    return out


def split_stages(instructions):
    stages = []
    for ins, arg, no in instructions:
        if ins == "FROM":
            m = re.match(r"(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", arg, re.I)
            stages.append({"image": m.group(1), "name": m.group(2), "line": no, "body": []})
        elif stages:
            stages[-1]["body"].append((ins, arg, no))
    return stages


def apt_packages(stage):
    """Packages named after `apt-get install` in the stage's RUN instructions."""
    pkgs = []
    for ins, arg, _ in stage["body"]:
        if ins != "RUN":
            continue
        for cmd in re.split(r"&&|;|\|\|", arg):
            words = shlex.split(cmd)
            # drop leading VAR=value assignments
            while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
                words.pop(0)
            if len(words) >= 2 and words[0] in ("apt-get", "apt") and "install" in words:
                after = words[words.index("install") + 1:]
                pkgs += [w for w in after if not w.startswith("-")]
    return pkgs


def install_deps_packages(path):
    text = open(path, encoding="utf-8").read()
    m = re.search(r"packages=\((.*?)\)", text, re.S)
    if not m:
        return None
    return set(re.sub(r"#.*", "", m.group(1)).split())


def apt_existing(pkgs):
    """The subset of pkgs that apt knows (one apt-cache call: it is slow on a busy machine)."""
    if not pkgs:
        return set()
    r = subprocess.run(["apt-cache", "show", "--no-all-versions", *pkgs],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return {line.split(":", 1)[1].strip() for line in r.stdout.splitlines() if line.startswith("Package:")}


def depends_closure(pkgs):
    r = subprocess.run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
                        "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances", *pkgs],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, check=False)
    return {line.strip() for line in r.stdout.splitlines()
            if line and not line.startswith(" ") and not line.startswith("<")}


def aliases(path):
    """The path, its target and their usrmerge twins (/lib <-> /usr/lib): dpkg knows one of them."""
    out = []
    for p in (path, os.path.realpath(path)):
        out.append(p)
        if p.startswith("/usr/lib/"):
            out.append(p[len("/usr"):])
        elif p.startswith("/lib/"):
            out.append("/usr" + p)
    return list(dict.fromkeys(out))


def owners(paths):
    """{library path: Debian package} for the paths dpkg knows (one dpkg -S call)."""
    query = sorted({a for p in paths for a in aliases(p)})
    r = subprocess.run(["dpkg", "-S", *query], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    by_file = {}
    for line in r.stdout.splitlines():
        if line.startswith("diversion "):
            continue
        pkg, _, file = line.partition(": ")
        by_file[file.strip()] = pkg.split(",")[0].split(":")[0].strip()
    return {p: next((by_file[a] for a in aliases(p) if a in by_file), None) for p in paths}


def ldd_libraries(binary):
    r = subprocess.run(["ldd", binary], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    libs, missing = {}, []
    for line in r.stdout.splitlines():
        m = re.match(r"\s*(\S+)\s+=>\s+(\S+)", line)
        if not m:
            continue
        if m.group(2) == "not":
            missing.append(m.group(1))
        else:
            libs[m.group(1)] = m.group(2)
    return libs, missing


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dockerfile", default=os.path.join(ROOT, "deploy", "Dockerfile"))
    ap.add_argument("--install-deps", default=os.path.join(ROOT, "deploy", "install-deps.sh"))
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build", "release"))
    args = ap.parse_args()

    problems = []
    stages = split_stages(parse_dockerfile(args.dockerfile))
    if len(stages) < 2:
        print(f"FAIL: {args.dockerfile}: not multi-stage ({len(stages)} FROM)")
        return 1
    build, runtime = stages[0], stages[-1]
    if build["image"] not in ("debian:12", "debian:bookworm"):
        problems.append(f"build stage is FROM {build['image']}, expected debian:12")
    if runtime["image"] not in ("debian:12-slim", "debian:bookworm-slim"):
        problems.append(f"runtime stage is FROM {runtime['image']}, expected debian:12-slim")

    body = runtime["body"]
    users = [arg.strip() for ins, arg, _ in body if ins == "USER"]
    if not users:
        problems.append("runtime stage has no USER (would run as root)")
    else:
        uid = users[-1].split(":")[0]
        if not uid.isdigit():
            problems.append(f"runtime USER {users[-1]!r} is not numeric (runAsNonRoot cannot verify a name)")
        elif int(uid) == 0:
            problems.append("runtime USER is root (0)")
    exposes = " ".join(arg for ins, arg, _ in body if ins == "EXPOSE").split()
    if not any(e.split("/")[0] == "9464" for e in exposes):
        problems.append("runtime stage does not EXPOSE 9464 (metrics)")
    entry = [arg for ins, arg, _ in body if ins == "ENTRYPOINT"]
    if not entry or "vigil-detector" not in entry[-1]:
        problems.append("runtime ENTRYPOINT is not vigil-detector")
    build_ref = build["name"] or "0"
    if not any(ins == "COPY" and re.search(rf"--from={re.escape(build_ref)}\b", arg) for ins, arg, _ in body):
        problems.append(f"runtime stage copies nothing from the build stage ({build_ref})")
    if any(ins == "HEALTHCHECK" for ins, _, _ in body):
        problems.append("HEALTHCHECK in runtime stage: Kubernetes probes /healthz and /readyz instead")

    runtime_pkgs = apt_packages(runtime)
    build_pkgs = apt_packages(build)
    if not runtime_pkgs:
        problems.append("runtime stage installs no packages (apt-get install) ")
    for p in runtime_pkgs:
        if p.endswith("-dev") or p in BUILD_ONLY:
            problems.append(f"runtime stage installs build package {p}")
    known = apt_existing(sorted(set(runtime_pkgs) | set(build_pkgs)))
    for p in sorted(set(runtime_pkgs) | set(build_pkgs)):
        if p not in known:
            problems.append(f"package {p} does not exist in Debian 12 (apt-cache show)")
    deps = install_deps_packages(args.install_deps)
    if deps is None:
        problems.append(f"cannot read the packages=(...) list of {args.install_deps}")
    else:
        for p in build_pkgs:
            if p not in deps:
                problems.append(f"build stage installs {p}, which deploy/install-deps.sh does not list")
    print(f"dockerfile: {len(stages)} stages, build {build['image']}, runtime {runtime['image']}, "
          f"user {users[-1] if users else '-'}, {len(runtime_pkgs)} runtime packages")

    binaries = sorted(b for b in glob.glob(os.path.join(args.build_dir, "services", "*", "vigil-*"))
                      if os.path.isfile(b) and os.access(b, os.X_OK))
    cache = os.path.join(args.build_dir, "CMakeCache.txt")
    sanitized = os.path.isfile(cache) and re.search(r"^VIGIL_SANITIZE:BOOL=(ON|1|TRUE)$",
                                                    open(cache, encoding="utf-8").read(), re.M | re.I)
    if not binaries:
        print(f"dockerfile: SKIP the shared-library check: no built binaries in "
              f"{args.build_dir}/services/*/vigil-* (build the release preset to run it)")
    elif sanitized:
        print(f"dockerfile: SKIP the shared-library check: {args.build_dir} is a sanitizer build "
              f"(it links libasan/libubsan; the image is built with the release preset)")
    else:
        closure = depends_closure(runtime_pkgs) if runtime_pkgs else set()
        needed = {}
        for b in binaries:
            libs, missing = ldd_libraries(b)
            for m in missing:
                problems.append(f"{os.path.basename(b)}: ldd cannot resolve {m} on this machine")
            for soname, path in libs.items():
                needed.setdefault((soname, path), set()).add(os.path.basename(b))
        owner = owners([path for _, path in needed])
        for (soname, path), users_of in sorted(needed.items()):
            pkg = owner[path]
            if pkg is None:
                problems.append(f"{soname} ({path}) belongs to no Debian package (needed by {', '.join(sorted(users_of))})")
            elif pkg not in closure:
                problems.append(f"{soname} is in package {pkg}, which the runtime stage does not install "
                                f"(needed by {', '.join(sorted(users_of))})")
        print(f"dockerfile: {len(needed)} shared libraries of {len(binaries)} binaries "
              f"({', '.join(os.path.basename(b) for b in binaries)}) all map to runtime packages"
              if not any("runtime stage does not install" in p or "no Debian package" in p for p in problems)
              else f"dockerfile: checked {len(needed)} shared libraries of {len(binaries)} binaries")

    for p in problems:
        print(f"FAIL: {p}")
    if problems:
        return 1
    print("dockerfile: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
