from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ...client import AuthenticatedClient, Client
from ...models.cancel_in import CancelIn
from ...models.error import Error
from ...models.task_accepted import TaskAccepted
from ...types import UNSET, Response, Unset


def _get_kwargs(
    booking_id: UUID,
    *,
    body: CancelIn | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/bookings/{booking_id}/decline".format(
            booking_id=quote(str(booking_id), safe=""),
        ),
    }

    if not isinstance(body, Unset):
        _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | TaskAccepted:
    if response.status_code == 202:
        response_202 = TaskAccepted.from_dict(response.json())

        return response_202

    if response.status_code == 400:
        response_400 = Error.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = Error.from_dict(response.json())

        return response_404

    if response.status_code == 413:
        response_413 = Error.from_dict(response.json())

        return response_413

    if response.status_code == 414:
        response_414 = Error.from_dict(response.json())

        return response_414

    if response.status_code == 415:
        response_415 = Error.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = Error.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = Error.from_dict(response.json())

        return response_429

    if response.status_code == 431:
        response_431 = Error.from_dict(response.json())

        return response_431

    if response.status_code == 503:
        response_503 = Error.from_dict(response.json())

        return response_503

    response_default = Error.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Error | TaskAccepted]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    booking_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    body: CancelIn | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Response[Error | TaskAccepted]:
    """Decline a PENDING booking (admins, the room's approvers): 202 with a task.

    Args:
        booking_id (UUID):
        idempotency_key (str | Unset):
        body (CancelIn | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | TaskAccepted]
    """

    kwargs = _get_kwargs(
        booking_id=booking_id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    booking_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    body: CancelIn | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Error | TaskAccepted | None:
    """Decline a PENDING booking (admins, the room's approvers): 202 with a task.

    Args:
        booking_id (UUID):
        idempotency_key (str | Unset):
        body (CancelIn | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | TaskAccepted
    """

    return sync_detailed(
        booking_id=booking_id,
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    booking_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    body: CancelIn | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Response[Error | TaskAccepted]:
    """Decline a PENDING booking (admins, the room's approvers): 202 with a task.

    Args:
        booking_id (UUID):
        idempotency_key (str | Unset):
        body (CancelIn | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | TaskAccepted]
    """

    kwargs = _get_kwargs(
        booking_id=booking_id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    booking_id: UUID,
    *,
    client: AuthenticatedClient | Client,
    body: CancelIn | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Error | TaskAccepted | None:
    """Decline a PENDING booking (admins, the room's approvers): 202 with a task.

    Args:
        booking_id (UUID):
        idempotency_key (str | Unset):
        body (CancelIn | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | TaskAccepted
    """

    return (
        await asyncio_detailed(
            booking_id=booking_id,
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
