"""One function per AWS operation, and the table that names each one's IAM action and
the resource it is authorized against. Wire names stop here: handlers turn model
parameters into service calls and domain objects into output shapes.
"""
