"""The numeric core: pure numpy, no Typer, no Rich, no YAML, and it never prints.

Each loss is a function of validated arrays that returns a `LossResult`: the per-term
values, their sum and mean, the headline value under the chosen reduction, warnings, and
the intermediate numbers that the working shows.
"""
