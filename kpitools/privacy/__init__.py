"""Personal data: how each output names a learner (:mod:`~kpitools.privacy.naming`, one
rule decided at write time) and the keyed pseudonyms it uses
(:mod:`~kpitools.privacy.pseudonym`)."""
