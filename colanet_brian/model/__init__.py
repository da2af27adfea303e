"""The CoLaNET model itself: parameters, every Brian2 equation string, the network builder, random streams,
the rate code and the readout.  Imports nothing else of the package."""
