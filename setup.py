"""Package list for setuptools; the rest of the metadata is in pyproject.toml.

``generator/``, ``templates/`` and ``spec/`` sit at the top of the repository
but install as ``tinyms.generator``, ``tinyms.templates`` and ``tinyms.spec``
(see ``package-dir`` in pyproject.toml). ``find_packages`` cannot see a
package-dir mapping, so those three are listed by hand.
"""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["tinyms", "tinyms.*"])
    + ["tinyms.generator", "tinyms.templates", "tinyms.spec"],
)
