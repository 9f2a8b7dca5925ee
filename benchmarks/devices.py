"""The device a benchmark pipeline trains on, and a clock that waits for it.

`cpu` or `cuda`. CUDA kernels run asynchronously: a time read while the GPU still works would
leave out the queued steps, so every timestamp of a CUDA run is taken after
`torch.cuda.synchronize()`.
"""

import torch

DEVICES = ("cpu", "cuda")


def no_gpu_reason() -> str | None:
    """Why `--device cuda` cannot run here, or None when it can."""
    if torch.cuda.is_available():
        return None
    build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
    return (
        f"--device cuda: torch {torch.__version__} ({build}) sees no CUDA GPU here; "
        "run it on a machine with an NVIDIA GPU and a CUDA build of torch, or use --device cpu"
    )


def torch_device(name: str) -> torch.device:
    """The device called `name`; exits with one line when it is cuda and there is no GPU."""
    if name not in DEVICES:
        raise SystemExit(f"device {name!r} is not allowed: expected one of {', '.join(DEVICES)}")
    if name == "cuda" and (reason := no_gpu_reason()) is not None:
        raise SystemExit(reason)
    return torch.device(name)


def wait_for(device: torch.device) -> None:
    """Block until the device has finished the work queued so far (a no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
