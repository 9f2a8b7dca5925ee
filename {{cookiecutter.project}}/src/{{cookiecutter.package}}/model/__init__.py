"""The network (a plain torch.nn.Module) and the LightningModule that trains it."""
