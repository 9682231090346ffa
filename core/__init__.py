"""Shared foundations of sekap-trust: errors, clock, audit trail, database proxy, ASN.1 helpers.

`core` imports nothing from the service packages and nothing from falcon or pkcs11.
"""
