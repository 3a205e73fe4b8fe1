"""Networks and data: the MNIST loader (``datasets``), LeNet-300-100 and LeNet-5 (``lenet``), the row-sequential
MNIST LSTM(P) whose gate and projection matrices an ESE model consumes (``lstm``), and the layer shapes and
published densities of the papers' benchmark networks (``specs``)."""
