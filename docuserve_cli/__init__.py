"""``docuserve``: the command-line client of a DocuServe deployment (SPEC "Command-line client").

Built on Click (commands, options, prompts, environment defaults) and Rich (progress bars with
speed and time left): both are well kept, already in the environment, and Click's declarative
commands keep each command a short function, while Rich's ``Progress`` gives per-file and total
bars on one live display without any drawing code of our own. Talks to the API with ``requests``
and to Cognito with boto3 (unsigned calls), the same libraries the rest of the project uses.
"""
