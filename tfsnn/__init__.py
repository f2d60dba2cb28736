"""tfsnn: temporally flexible spiking neural networks and mixed time-step training (MTT).

The core (``neuron``, ``temporal``, ``models``, ``bn``, ``engine``) needs only torch.
"""
__version__ = "0.1.0"
