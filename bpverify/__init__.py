"""bpverify: verification and conformance testing of backpropagation (Nielsen, ch. 2).

One import name: ``bpverify.reference`` (the numpy reference), ``bpverify.derivations``
(SymPy derivations), ``bpverify.conformance`` (checking other implementations) and the
``bpverify`` command. The three parts are top-level folders of the repository; installed,
setuptools places them inside this package. In a source checkout run without installing,
the folder above this one holds them, so it joins the package's search path.
"""

from pathlib import Path

if not (Path(__file__).parent / "reference").is_dir():  # a source checkout, not installed
    __path__.append(str(Path(__file__).parent.parent))
