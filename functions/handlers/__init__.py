"""Thin Lambda handler modules. Each sets up a resolver, declares routes, and calls logic.

Every function's entry module is in this package, so its first line is the first thing a cold start
runs: in Lambda it pauses the cyclic garbage collector until the first invocation has answered
(``docuserve.coldstart``; the entry wrappers in ``docuserve.observability`` resume it).
"""

from docuserve.coldstart import pause_collector

pause_collector()
