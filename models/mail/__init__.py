"""Mail, in one place: who is told what, how it is written and sent, and when.

- `fan_out.py`: outbox events to mail rows (one per address), coalesced.
- `subjects.py`: what a mail is about, and the addresses it may go to.
- `composing.py`: a mail composed from the rows as they are when it is sent (or
  SKIPPED: nothing left to say); `letters.py` its text, `itip.py` its calendar (RFC 5546),
  `compose.py` its MIME (RFC 6047), all pure.
- `sending.py`: claims, the rate per booking and address, retries, the record.
- `smtp.py`: the relay (SMTP_URL) and one SMTP session.
- `reminders.py`: the periodic jobs (reminders, purge) declared for beat.

Around it, where the layers put them: the table in `models/tables/mail.py`, the fan-out
beside webhooks' in `models/services/dispatch.py`, the task in `worker/mail.py` (run by
`bookings webhooks`). docs/mail.md is the operator's page.
"""
