"""rnnloss: a calculator for the loss functions used to train recurrent neural networks."""

__version__ = "0.1.0"
