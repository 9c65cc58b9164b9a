"""Deploying Altaviz to Microsoft Fabric: the repository's Fabric items, assembled with the wheel
built from lib/, published with fabric-cicd (``altaviz fabric deploy``).

``items`` knows the item folders (Fabric Git-integration format); ``deploy`` builds, assembles,
plans (dry run, no Azure) and publishes; ``cli`` is the ``altaviz fabric`` command group.
"""
