"""The project's RPC clients (vetctl, the fault suite's load): nameko's standalone
``ClusterRpcProxy`` with a reply queue that lives and dies with its connection.

nameko declares a client's reply queue ``rpc.reply-<proxy>-<uuid>`` durable (kombu's
default) with ``x-expires``. On a RabbitMQ cluster a durable classic queue lives on the node
the client was connected to; when that node dies, the proxy reconnects to another node and
redeclares the queue there, and the broker refuses: ``404 NOT_FOUND - home node
'rabbit-a@localhost' of durable queue 'rpc.reply-…' … is down`` (seen under `make chaos`,
node-killed: every call of a proxy that outlived its node failed so, until the node came
back). Here the queue is exclusive (and so neither durable nor shared): the broker deletes it
with its connection, and the redeclare after a reconnect makes it afresh on the node the
client now talks to. A reply in flight at the moment the node died is lost either way; the
call raises (``RpcTimeout``) and the caller decides, as for any lost reply."""

import uuid

from kombu import Queue
from nameko.rpc import RPC_REPLY_QUEUE_TEMPLATE, get_rpc_exchange
from nameko.standalone.rpc import ClusterRpcProxy, SingleThreadedReplyListener


class ConnectionReplyListener(SingleThreadedReplyListener):
    """nameko's reply listener with an exclusive reply queue (see the module)."""

    def setup(self):
        reply_uuid = uuid.uuid4()
        self.routing_key = str(reply_uuid)
        self.queue = Queue(
            RPC_REPLY_QUEUE_TEMPLATE.format(self.container.service_name, reply_uuid),
            exchange=get_rpc_exchange(self.container.config),
            routing_key=self.routing_key,
            durable=False,
            exclusive=True,
            auto_delete=True,
        )
        self.queue_consumer.register_provider(self)


def cluster_proxy(config, **kwargs):
    """``ClusterRpcProxy(config, **kwargs)`` whose reply queue is the connection's own."""
    return ClusterRpcProxy(config, reply_listener_cls=ConnectionReplyListener, **kwargs)
