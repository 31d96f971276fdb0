"""The nightly run spread over worker processes and machines, on procrastinate and PostgreSQL (issue 19).

No queue of our own: procrastinate holds the jobs in the PostgreSQL the store already uses. One job is one
client's whole night (``pipeline.run_client``); procrastinate's ``lock`` keeps a client to one job at a
time, our run table (``runs``) makes an enqueue repeated the same night a no-op, heartbeats find dead
workers and their jobs run again, and the accounting systems' rate limits are held per credential across
every worker in PostgreSQL (``limits``).

- ``db``        the queue's database: its URL, its tables (ours and procrastinate's), advisory locks
- ``limits``    rate limits shared by every worker process (a small SQL bucket per credential)
- ``schedule``  the nightly time in the config's zone as cron lines in UTC
- ``runs``      enqueue a night, each client's state (``arsync runs status``), waiting for a night's end
- ``worker``    the procrastinate app, the job, the nightly task and the worker process (``arsync worker``)

SQLite and ``arsync run`` without ``--queue`` stay the default for one machine; none of this is imported
then (procrastinate is the optional extra ``queue``).
"""
