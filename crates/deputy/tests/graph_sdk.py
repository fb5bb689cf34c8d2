"""Drives Deputy's Graph door with Microsoft's own Python SDK (msgraph-sdk).

    graph_sdk.py BASE_URL        (e.g. http://127.0.0.1:8080/v1.0)

The access token, issued by Deputy's token endpoint for Rob, comes in the
DEPUTY_TOKEN environment variable. The only thing changed from the SDK's
documented setup is the request adapter's base URL; the token reaches the SDK
through a TokenCredential, the interface azure-identity's credentials
implement. Run by crates/deputy/tests/graph_sdk.rs, which checks what this
prints: one "inbox: SUBJECT" line per message in Mary's inbox, then "sent".
"""

import asyncio
import os
import sys
import time

from azure.core.credentials import AccessToken
from kiota_authentication_azure.azure_identity_authentication_provider import (
    AzureIdentityAuthenticationProvider,
)
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.models.body_type import BodyType
from msgraph.generated.models.email_address import EmailAddress
from msgraph.generated.models.item_body import ItemBody
from msgraph.generated.models.message import Message
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.recipient import Recipient
from msgraph.generated.users.item.send_mail.send_mail_post_request_body import (
    SendMailPostRequestBody,
)


class DeputyCredential:
    """A TokenCredential that hands out the token Deputy issued.

    azure-identity's credentials (ClientSecretCredential, …) speak to
    login.microsoftonline.com, which this test cannot reach; the SDK only
    needs get_token, and any object with it will do.
    """

    def __init__(self, token: str) -> None:
        self.token = token

    def get_token(self, *scopes, claims=None, tenant_id=None, enable_cae=False, **kwargs) -> AccessToken:
        return AccessToken(self.token, int(time.time()) + 3000)


def client_for(base_url: str, token: str) -> GraphServiceClient:
    # kiota's AzureIdentityAccessTokenProvider refuses to send a token over
    # plain http ("Only https is supported") except to localhost, 127.0.0.1
    # and [::1], so a loopback server needs no subclass; and its default
    # allowed_hosts (empty) lets the token go to any host. (msgraph_core's
    # provider of the same name would limit it to Microsoft's national clouds.)
    auth = AzureIdentityAuthenticationProvider(DeputyCredential(token), scopes=["https://graph.microsoft.com/.default"])
    adapter = GraphRequestAdapter(auth)
    # Set before the client is built: the client copies base_url into its
    # path parameters when it is constructed.
    adapter.base_url = base_url
    return GraphServiceClient(request_adapter=adapter)


def describe(e: ODataError) -> str:
    err = e.error
    return f"HTTP {e.response_status_code} {err.code if err else '?'}: {err.message if err else e}"


async def main(base_url: str) -> int:
    client = client_for(base_url, os.environ["DEPUTY_TOKEN"])
    try:
        page = await client.users.by_user_id("mary@contoso.test").mail_folders.by_mail_folder_id("inbox").messages.get()
    except ODataError as e:
        print(f"list failed: {describe(e)}")
        return 1
    for m in page.value or []:
        sender = m.sender.email_address.address if m.sender and m.sender.email_address else None
        print(f"inbox: {m.subject} (from {m.from_.email_address.address if m.from_ else None}, sender {sender})")

    body = SendMailPostRequestBody(
        message=Message(
            from_=Recipient(email_address=EmailAddress(address="mary@contoso.test")),
            to_recipients=[Recipient(email_address=EmailAddress(address="megan@contoso.test"))],
            subject="Sent through the Graph SDK",
            body=ItemBody(content_type=BodyType.Text, content="Rob, on behalf of Mary."),
        ),
        save_to_sent_items=True,
    )
    try:
        await client.me.send_mail.post(body)
    except ODataError as e:
        print(f"send failed: {describe(e)}")
        return 1
    print("sent")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1])))
