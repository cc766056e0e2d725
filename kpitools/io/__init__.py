"""Writing outputs: the four result files, the learner register, the output workspace
(atomic writes, locks). Reading returns is :mod:`kpitools.returns`, the ILR :mod:`kpitools.ilr`."""
