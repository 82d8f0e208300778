"""Only what pyproject.toml cannot say: a wheel carries config/, email_templates/ and migrations/
inside the package (see audit_workflow/resources.py), so it runs without the repository."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SHIPPED_FOLDERS = ("config", "email_templates", "migrations")


class BuildWithShippedFolders(build_py):
    def run(self):
        super().run()
        if self.editable_mode:
            return  # an editable install reads the folders where they are
        target = Path(self.build_lib) / "audit_workflow" / "_shipped"
        for name in SHIPPED_FOLDERS:
            shutil.copytree(name, target / name, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildWithShippedFolders})
