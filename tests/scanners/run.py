"""``make scan``: cfn-lint and checkov on the synthesized templates, bandit on the code, and a
dependency vulnerability audit. A finding fails the run unless ``acknowledged.toml`` lists it
with a reason; entries that match nothing any more are reported so the list stays honest.

    python tests/scanners/run.py --bin .venv/scan/bin [--cdk-out cdk.out] [--site-packages ...]
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ACKNOWLEDGED = Path(__file__).with_name("acknowledged.toml")
CODE = ["layers", "functions", "infra", "local"]


@dataclass(frozen=True)
class Finding:
    tool: str
    rule: str
    resource: str
    where: str
    text: str

    def line(self) -> str:
        return f"{self.tool} {self.rule} {self.resource} ({self.where}): {self.text}"


@dataclass
class Acknowledgement:
    tool: str
    rule: str
    resources: list[str]
    reason: str
    used: int = 0

    def covers(self, finding: Finding) -> bool:
        if finding.tool != self.tool or finding.rule != self.rule:
            return False
        return any(fnmatch.fnmatch(finding.resource, pattern) for pattern in self.resources)


def load_acknowledgements(path: Path = ACKNOWLEDGED) -> list[Acknowledgement]:
    entries = tomllib.loads(path.read_text()).get("finding", [])
    acks = []
    for entry in entries:
        if not str(entry.get("reason", "")).strip():
            raise SystemExit(f"{path}: {entry.get('tool')} {entry.get('rule')} has no reason")
        acks.append(Acknowledgement(entry["tool"], entry["rule"], list(entry.get("resources", ["*"])), entry["reason"]))
    return acks


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)


def templates(cdk_out: Path) -> list[Path]:
    found = sorted(cdk_out.glob("*/*.template.json"))
    if not found:
        raise SystemExit(f"no synthesized templates under {cdk_out}: run `make synth` first")
    return found


def checkov(bin_dir: Path, paths: list[Path]) -> list[Finding]:
    command = [str(bin_dir / "checkov"), "--framework", "cloudformation", "-o", "json", "--quiet", "--compact"]
    for path in paths:
        command += ["-f", str(path)]
    done = _run(command)
    if not done.stdout.strip():
        raise SystemExit(f"checkov produced no report:\n{done.stderr[-3000:]}")
    reports = json.loads(done.stdout)
    findings = []
    for report in reports if isinstance(reports, list) else [reports]:
        for failed in report.get("results", {}).get("failed_checks", []):
            findings.append(
                Finding(
                    "checkov",
                    failed["check_id"],
                    failed["resource"],
                    Path(failed.get("file_path", "?")).name,
                    failed.get("check_name", ""),
                )
            )
    return findings


def cfn_lint(bin_dir: Path, paths: list[Path]) -> list[Finding]:
    done = _run([str(bin_dir / "cfn-lint"), "--format", "json", *map(str, paths)])
    if done.returncode != 0 and not done.stdout.strip():
        raise SystemExit(f"cfn-lint failed:\n{done.stderr[-3000:]}")
    findings = []
    for match in json.loads(done.stdout or "[]"):
        path_parts = match.get("Location", {}).get("Path") or []
        resource = str(path_parts[1]) if len(path_parts) > 1 and path_parts[0] == "Resources" else "*"
        findings.append(
            Finding(
                "cfn-lint",
                match["Rule"]["Id"],
                resource,
                Path(match.get("Filename", "?")).name,
                match.get("Message", ""),
            )
        )
    return findings


def bandit(bin_dir: Path) -> list[Finding]:
    done = _run([str(bin_dir / "bandit"), "-q", "-r", *CODE, "-f", "json"])
    if not done.stdout.strip():
        raise SystemExit(f"bandit produced no report:\n{done.stderr[-3000:]}")
    report = json.loads(done.stdout)
    return [
        Finding(
            "bandit",
            r["test_id"],
            r["filename"],
            f"{r['filename']}:{r['line_number']}",
            f"{r['issue_severity']}/{r['issue_confidence']}: {r['issue_text']}",
        )
        for r in report.get("results", [])
    ]


def dependency_audit(bin_dir: Path, site_packages: Path) -> tuple[list[Finding], str]:
    """pip-audit of the project's environment; says plainly when its database cannot be reached."""
    done = _run([str(bin_dir / "pip-audit"), "--path", str(site_packages), "-f", "json", "--progress-spinner", "off"])
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        return [], f"dependency audit: could not run ({done.stderr.strip()[-300:]})"
    dependencies = report.get("dependencies", [])
    audited = [d for d in dependencies if "skip_reason" not in d]
    findings = [
        Finding(
            "pip-audit", v["id"], f"{d['name']}=={d['version']}", "site-packages", ", ".join(v.get("fix_versions", []))
        )
        for d in audited
        for v in d.get("vulns", [])
    ]
    if not audited:
        note = (
            f"dependency audit: UNAVAILABLE here - 0 of {len(dependencies)} packages could be checked "
            "(the vulnerability data of PyPI's JSON API and OSV is not reachable from this network); "
            "run `make scan` where it is"
        )
    else:
        note = f"dependency audit: {len(audited)} of {len(dependencies)} packages checked"
    return findings, note


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bin", type=Path, required=True, help="folder with checkov, cfn-lint, bandit, pip-audit")
    parser.add_argument("--cdk-out", type=Path, default=ROOT / "cdk.out")
    parser.add_argument("--site-packages", type=Path, default=None)
    args = parser.parse_args(argv)
    site_packages = args.site_packages or next((ROOT / ".venv" / "lib").glob("python3*/site-packages"))

    acks = load_acknowledgements()
    paths = templates(args.cdk_out)
    findings = checkov(args.bin, paths) + cfn_lint(args.bin, paths) + bandit(args.bin)
    audit_findings, audit_note = dependency_audit(args.bin, site_packages)
    findings += audit_findings

    open_findings = []
    for finding in findings:
        matching = [a for a in acks if a.covers(finding)]
        for ack in matching:
            ack.used += 1
        if not matching:
            open_findings.append(finding)

    print(f"scanned {len(paths)} templates ({', '.join(p.parent.name for p in paths)}) and {', '.join(CODE)}")
    print(f"{len(findings)} findings, {len(findings) - len(open_findings)} acknowledged with a reason")
    print(audit_note)
    for ack in acks:
        if not ack.used:
            print(f"warning: acknowledgement matches nothing any more: {ack.tool} {ack.rule} {ack.resources}")
    if open_findings:
        print(f"\n{len(open_findings)} UNACKNOWLEDGED (fix, or add to {ACKNOWLEDGED.relative_to(ROOT)} with a reason):")
        for finding in sorted(open_findings, key=lambda f: (f.tool, f.rule, f.resource)):
            print(f"  {finding.line()}")
        return 1
    print("scan: clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
