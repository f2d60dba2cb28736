"""GPU kernels. Each has a CPU-tested twin in plain torch (tfsnn.neuron); Triton kernels also run on
the CPU under TRITON_INTERPRET=1, which is how CI tests them."""
