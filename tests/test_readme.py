"""The README's Python examples and its first command run as written."""

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), re.S)


def test_readme_python_examples_run(tmp_path):
    blocks = python_blocks(REPO / "README.md")
    assert blocks, "README.md has no python example"
    for number, code in enumerate(blocks):
        script = tmp_path / f"example_{number}.py"
        script.write_text(code)
        result = subprocess.run([sys.executable, str(script)], cwd=tmp_path,
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "lenet5.ckpt").is_file()


def test_readme_twins_show_the_same_commands():
    english = re.findall(r"```bash\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    chinese = re.findall(r"```bash\n(.*?)```", (REPO / "README_CN.md").read_text(), re.S)
    assert english == chinese
    assert python_blocks(REPO / "README.md") == python_blocks(REPO / "README_CN.md")


def test_ci_runs_the_readme_test_command():
    commands = re.findall(r"```bash\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    test_command = commands[1].strip()
    assert "pytest" in test_command
    assert test_command in (REPO / ".ci" / "run").read_text()


def test_quickstart_runs_offline(tmp_path):
    """The README's first command after the install: generate, train, eval, serve."""
    result = subprocess.run(
        [sys.executable, str(REPO / "examples" / "quickstart.py"), "--epochs", "1",
         "--output-dir", str(tmp_path / "quickstart")],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert re.fullmatch(r"test accuracy 0\.\d{4}", lines[-1])
    assert float(lines[-1].split()[-1]) > 0.5
    assert lines[-2].startswith("server at http://127.0.0.1:")
