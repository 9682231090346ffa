"""The certification authority: hierarchy, profiles, issuance, revocation, CRLs.

Import from the modules (``ca.issuance``, ``ca.revocation``, ``ca.crl``, ``ca.status``); this
package module stays empty so that reading CA state (``ca.status``) does not load the issuance
machinery.
"""
