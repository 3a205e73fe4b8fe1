"""Networks and data: the MNIST loader (``datasets``), LeNet-300-100 and LeNet-5 (``lenet``), and the layer
shapes and published densities of the papers' benchmark networks (``specs``)."""
