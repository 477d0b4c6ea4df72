from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.meeting_view import MeetingView
from ...types import Response


def _get_kwargs(
    join_code: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/meetings/{join_code}".format(
            join_code=quote(str(join_code), safe=""),
        ),
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | MeetingView:
    if response.status_code == 200:
        response_200 = MeetingView.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = Error.from_dict(response.json())

        return response_404

    if response.status_code == 414:
        response_414 = Error.from_dict(response.json())

        return response_414

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Error | MeetingView]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    join_code: str,
    *,
    client: AuthenticatedClient | Client,
) -> Response[Error | MeetingView]:
    """A meeting by its join code: where and when. Its video link only to its organizer
    and admins: a join code is on the room's door display, for anyone passing by.

    Args:
        join_code (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | MeetingView]
    """

    kwargs = _get_kwargs(
        join_code=join_code,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    join_code: str,
    *,
    client: AuthenticatedClient | Client,
) -> Error | MeetingView | None:
    """A meeting by its join code: where and when. Its video link only to its organizer
    and admins: a join code is on the room's door display, for anyone passing by.

    Args:
        join_code (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | MeetingView
    """

    return sync_detailed(
        join_code=join_code,
        client=client,
    ).parsed


async def asyncio_detailed(
    join_code: str,
    *,
    client: AuthenticatedClient | Client,
) -> Response[Error | MeetingView]:
    """A meeting by its join code: where and when. Its video link only to its organizer
    and admins: a join code is on the room's door display, for anyone passing by.

    Args:
        join_code (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | MeetingView]
    """

    kwargs = _get_kwargs(
        join_code=join_code,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    join_code: str,
    *,
    client: AuthenticatedClient | Client,
) -> Error | MeetingView | None:
    """A meeting by its join code: where and when. Its video link only to its organizer
    and admins: a join code is on the room's door display, for anyone passing by.

    Args:
        join_code (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | MeetingView
    """

    return (
        await asyncio_detailed(
            join_code=join_code,
            client=client,
        )
    ).parsed
