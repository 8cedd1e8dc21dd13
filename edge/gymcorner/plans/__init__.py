"""Training plans: the next sessions of a member, rule by rule, each choice with its reason."""
