"""(b) The floor: a minimal hand-written PyTorch loop on the same data, split, model and optimizer.

    python plain_loop.py TABLE EPOCHS BATCH_SIZE [DEVICE]

Reads the CSV, splits it like the project (scikit-learn, stratified, same fractions and seed),
standardises with training statistics, then trains 29-128-64-1 with Adam and runs a validation pass
per epoch. Prints the seconds since process launch (BENCH_T0) at the first step and at each
epoch's end, as the project's EpochTimer callback does. DEVICE (cpu, cuda): where the tables, the
batches and the network live, as the project keeps its tables on the training device.
"""

import sys
import time

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import train_test_split
from torch import nn

from devices import torch_device, wait_for
from launch_clock import since_launch
from synthetic import TARGET

THREADS = 1
EVAL_BATCH_SIZE = 4096  # the project's batch for validation and test


def training_data(table: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Training and validation features and targets, split and standardised as the project does."""
    # The project's default (torch_threads: 1), so that the comparison is of the loops alone.
    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    frame = pd.read_csv(table)
    x = frame.drop(columns=TARGET).to_numpy(np.float32)
    y = frame[TARGET].to_numpy(np.float32)
    index = np.arange(len(frame))
    rest, _test = train_test_split(index, test_size=0.2, random_state=42, stratify=y)
    train, val = train_test_split(rest, test_size=0.15 / 0.8, random_state=42, stratify=y[rest])
    mean, std = x[train].mean(0), x[train].std(0)
    features = torch.from_numpy((x - mean) / std)
    targets = torch.from_numpy(y)
    return features[train], targets[train], features[val], targets[val]


def network(inputs: int) -> nn.Module:
    return nn.Sequential(
        nn.Linear(inputs, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 1)
    )


def main(table: str, epochs: int, batch_size: int, device_name: str = "cpu") -> None:
    device = torch_device(device_name)
    x_train, y_train, x_val, y_val = (t.to(device) for t in training_data(table))
    model = network(x_train.shape[1]).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.BCEWithLogitsLoss()
    first_step = None
    for _ in range(epochs):
        model.train()
        epoch_start = time.perf_counter()
        for rows in torch.randperm(len(x_train), device=device).split(batch_size):
            # index_select, as the project gathers (faster than x_train[rows] on a CPU).
            features, targets = x_train.index_select(0, rows), y_train.index_select(0, rows)
            loss = loss_fn(model(features).squeeze(-1), targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if first_step is None:
                wait_for(device)
                first_step = since_launch()
                cpu = time.process_time()
                print(f"first_step_s={first_step:.3f} first_step_cpu_s={cpu:.3f}", flush=True)
        wait_for(device)
        steps = time.perf_counter() - epoch_start
        model.eval()
        with torch.no_grad():
            # Summed on the device; one host copy per epoch.
            val_loss = sum(
                loss_fn(model(features).squeeze(-1), targets) * len(targets)
                for features, targets in zip(
                    x_val.split(EVAL_BATCH_SIZE), y_val.split(EVAL_BATCH_SIZE), strict=True
                )
            ).item() / len(y_val)
        print(
            f"epoch_end_s={since_launch():.4f} steps_s={steps:.4f} "
            f"cpu_s={time.process_time():.4f} val_loss={val_loss:.4f}",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), *sys.argv[4:5])
