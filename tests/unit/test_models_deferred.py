"""Every model at the HTTP edge defers its schema build to first use (docuserve.models.base)."""

from __future__ import annotations

import importlib
import inspect
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

from pydantic import BaseModel

import docuserve.models


def _models() -> list[type[BaseModel]]:
    found = []
    for info in pkgutil.iter_modules(docuserve.models.__path__):
        module = importlib.import_module(f"docuserve.models.{info.name}")
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseModel) and value.__module__ == module.__name__:
                found.append(value)
    return found


def test_every_model_in_docuserve_models_defers_its_schema_build() -> None:
    eager = [f"{m.__module__}.{m.__qualname__}" for m in _models() if not m.model_config.get("defer_build")]
    assert eager == [], "inherit docuserve.models.base.Model (or Body for requests) instead of BaseModel"


def test_importing_the_models_builds_no_validator_until_one_is_used() -> None:
    # A fresh interpreter: in this one, other tests have validated with the models already.
    program = (
        "import json\n"
        "from docuserve.models import requests, responses, shares\n"
        "names = ('CreateWorkspace', 'DocumentView', 'ShareView')\n"
        "mods = (requests, responses, shares)\n"
        "before = [getattr(m, n).__pydantic_complete__ for m, n in zip(mods, names)]\n"
        "requests.CreateWorkspace(name='Deals')\n"
        "after = requests.CreateWorkspace.__pydantic_complete__\n"
        "print(json.dumps([before, after]))\n"
    )
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=str(root / "layers" / "domain" / "python"))
    done = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True)
    before, after = json.loads(done.stdout)
    assert before == [False, False, False]
    assert after is True
