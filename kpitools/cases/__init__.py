"""Case files: one learner, employer, bootcamp or provider gathered across the months of
a provider's returns, its ILR record, and every finding about it with its register
history (:mod:`kpitools.cases.gather`); ``kpitools case`` presents them
(:mod:`kpitools.present.case`, ``notebooks/case.ipynb``)."""
