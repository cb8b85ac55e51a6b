"""CPU defaults that must be in place before MindSpore runs its first operator.

oneDNN 3.x, as bundled with MindSpore 2.10, picks a slow reference kernel for
convolutions on AMD CPUs that report AVX-512; limiting it to AVX2 makes LeNet5
training about 7x faster with the same outputs (``benchmarks/isa_speed.py``).
oneDNN reads ``ONEDNN_MAX_CPU_ISA`` once per process, so tinyms sets it when
the package is imported, unless the user already set it. To keep oneDNN's own
choice, set ``ONEDNN_MAX_CPU_ISA=ALL`` before importing tinyms.
"""

from __future__ import annotations

import logging
import os
import platform

logger = logging.getLogger(__name__)

ISA_VARIABLE = "ONEDNN_MAX_CPU_ISA"


def read_cpu_info(path: str = "/proc/cpuinfo") -> tuple[str, set[str]]:
    """Return the CPU vendor id and the flag set of the first processor (Linux only)."""
    vendor, flags = "", set()
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "vendor_id" and not vendor:
                    vendor = value.strip()
                elif key == "flags" and not flags:
                    flags = set(value.split())
                if vendor and flags:
                    break
    except OSError:
        pass
    return vendor, flags


def choose_isa(vendor: str, flags: set[str], machine: str) -> str | None:
    """Return the ISA limit to set, or None to leave oneDNN's default.

    The rule: x86-64, vendor AuthenticAMD, and AVX-512F present. Intel CPUs with
    AVX-512 get oneDNN's native AVX-512 kernels and are left alone.
    """
    if machine.lower() not in ("x86_64", "amd64"):
        return None
    if vendor == "AuthenticAMD" and "avx512f" in flags and "avx2" in flags:
        return "AVX2"
    return None


def apply_cpu_defaults() -> None:
    """Set ONEDNN_MAX_CPU_ISA by the rule above when the user has not set it."""
    if ISA_VARIABLE in os.environ:
        logger.debug("%s=%s set by the user; leaving it", ISA_VARIABLE, os.environ[ISA_VARIABLE])
        return
    vendor, flags = read_cpu_info()
    isa = choose_isa(vendor, flags, platform.machine())
    if isa is None:
        logger.debug("CPU vendor %r: leaving oneDNN's default ISA", vendor)
        return
    os.environ[ISA_VARIABLE] = isa
    logger.debug("CPU vendor %r with AVX-512: set %s=%s", vendor, ISA_VARIABLE, isa)
