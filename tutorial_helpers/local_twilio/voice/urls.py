"""The 2010-04-01 route table: URL rule, methods, handler. Nothing else."""

from . import handlers as h

ACCOUNT = "/2010-04-01/Accounts/<account_sid>"

URLS = [
    (f"{ACCOUNT}/IncomingPhoneNumbers.json", ["GET"], h.list_numbers),
    (f"{ACCOUNT}/IncomingPhoneNumbers.json", ["POST"], h.create_number),
    (f"{ACCOUNT}/IncomingPhoneNumbers/<sid>.json", ["GET"], h.fetch_number),
    (f"{ACCOUNT}/IncomingPhoneNumbers/<sid>.json", ["POST"], h.update_number),
    (f"{ACCOUNT}/IncomingPhoneNumbers/<sid>.json", ["DELETE"], h.delete_number),
    (f"{ACCOUNT}/Calls.json", ["GET"], h.list_calls),
    (f"{ACCOUNT}/Calls.json", ["POST"], h.create_call),
    (f"{ACCOUNT}/Calls/<sid>.json", ["GET"], h.fetch_call),
    (f"{ACCOUNT}/Calls/<sid>.json", ["POST"], h.update_call),
    (f"{ACCOUNT}/Queues.json", ["GET"], h.list_queues),
    (f"{ACCOUNT}/Queues.json", ["POST"], h.create_queue),
    (f"{ACCOUNT}/Queues/<sid>.json", ["GET"], h.fetch_queue),
    (f"{ACCOUNT}/Queues/<sid>.json", ["POST"], h.update_queue),
    (f"{ACCOUNT}/Queues/<sid>.json", ["DELETE"], h.delete_queue),
    (f"{ACCOUNT}/Keys.json", ["GET"], h.list_keys),
    (f"{ACCOUNT}/Keys.json", ["POST"], h.create_key),
    (f"{ACCOUNT}/Keys/<sid>.json", ["GET"], h.fetch_key),
    (f"{ACCOUNT}/Keys/<sid>.json", ["POST"], h.update_key),
    (f"{ACCOUNT}/Keys/<sid>.json", ["DELETE"], h.delete_key),
    ("/_local/Calls/<sid>/Digits", ["POST"], h.press_digits),
    ("/_local/Calls/<sid>/Transcript", ["GET"], h.call_transcript),
    ("/_local/Calls/<sid>/Answer", ["POST"], h.answer_call),
    ("/_local/Calls/<sid>/Decline", ["POST"], h.decline_call),
    ("/_local/Softphones", ["POST"], h.register_softphone),
    ("/_local/Softphones/<path:address>", ["GET"], h.softphone),
]
