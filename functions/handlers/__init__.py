"""Thin Lambda handler modules. Each sets up a resolver, declares routes, and calls logic.

Every function's entry module is in this package, so its first line is the first thing a cold start
runs: in Lambda it pauses the cyclic garbage collector for the cold start (``docuserve.coldstart``;
the entry wrappers in ``docuserve.observability`` resume it with the first invocation).
"""

from docuserve.coldstart import pause_collector

pause_collector()
