"""GitHub checks, one module per topic: the organisation (`org`), its repositories (`repos`) and their
open alerts (`alerts`); `checks._github` holds the helpers they share.

Every check's primary source is an organisation's (`github:<org>`), so each organisation gets its
own verdicts and nonconformities; members are linked to employees only through `checks._identity`.
"""
