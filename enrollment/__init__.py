"""Enrollment: applications, certification points, officers, identity checks, issuance hand-over,
citizen self-service and notifications (the CC SEKAP flow). It decides who may do what; the CA
signs.

Import from the modules (``enrollment.resources``, ``enrollment.desk`` ...): this package module
stays empty so that reading the settings section (config validates every section at start-up)
loads no enrollment code.
"""
