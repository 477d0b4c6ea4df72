import datetime
from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.free_windows import FreeWindows
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    duration_minutes: int,
    from_: datetime.datetime,
    to: datetime.datetime,
    capacity_min: int | Unset = UNSET,
    amenity: list[str] | Unset = UNSET,
    building: str | Unset = UNSET,
    floor: str | Unset = UNSET,
    limit: int | Unset = 10,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["duration_minutes"] = duration_minutes

    json_from_ = from_.isoformat()
    params["from"] = json_from_

    json_to = to.isoformat()
    params["to"] = json_to

    params["capacity_min"] = capacity_min

    json_amenity: list[str] | Unset = UNSET
    if not isinstance(amenity, Unset):
        json_amenity = amenity

    params["amenity"] = json_amenity

    params["building"] = building

    params["floor"] = floor

    params["limit"] = limit

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/rooms/find-time",
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | FreeWindows:
    if response.status_code == 200:
        response_200 = FreeWindows.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())

        return response_401

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Error | FreeWindows]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    duration_minutes: int,
    from_: datetime.datetime,
    to: datetime.datetime,
    capacity_min: int | Unset = UNSET,
    amenity: list[str] | Unset = UNSET,
    building: str | Unset = UNSET,
    floor: str | Unset = UNSET,
    limit: int | Unset = 10,
) -> Response[Error | FreeWindows]:
    """Find a time: the earliest free windows across the rooms that match.

     Windows of `duration_minutes` inside [from, to) (at most 31 days) in active rooms,
    earliest first, at most `limit`: each is free of PENDING and CONFIRMED bookings (kept
    apart by the room's buffer) and of closures, starts no earlier than now, lies inside
    the room's opening hours and meets its notice, horizon and duration rules for the
    caller (admins and the room's approvers are held to bookings, buffers and closures
    only). A room offers one window per free stretch, at the stretch's start.

    Args:
        duration_minutes (int):
        from_ (datetime.datetime):
        to (datetime.datetime):
        capacity_min (int | Unset):
        amenity (list[str] | Unset):
        building (str | Unset):
        floor (str | Unset):
        limit (int | Unset):  Default: 10.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | FreeWindows]
    """

    kwargs = _get_kwargs(
        duration_minutes=duration_minutes,
        from_=from_,
        to=to,
        capacity_min=capacity_min,
        amenity=amenity,
        building=building,
        floor=floor,
        limit=limit,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    duration_minutes: int,
    from_: datetime.datetime,
    to: datetime.datetime,
    capacity_min: int | Unset = UNSET,
    amenity: list[str] | Unset = UNSET,
    building: str | Unset = UNSET,
    floor: str | Unset = UNSET,
    limit: int | Unset = 10,
) -> Error | FreeWindows | None:
    """Find a time: the earliest free windows across the rooms that match.

     Windows of `duration_minutes` inside [from, to) (at most 31 days) in active rooms,
    earliest first, at most `limit`: each is free of PENDING and CONFIRMED bookings (kept
    apart by the room's buffer) and of closures, starts no earlier than now, lies inside
    the room's opening hours and meets its notice, horizon and duration rules for the
    caller (admins and the room's approvers are held to bookings, buffers and closures
    only). A room offers one window per free stretch, at the stretch's start.

    Args:
        duration_minutes (int):
        from_ (datetime.datetime):
        to (datetime.datetime):
        capacity_min (int | Unset):
        amenity (list[str] | Unset):
        building (str | Unset):
        floor (str | Unset):
        limit (int | Unset):  Default: 10.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | FreeWindows
    """

    return sync_detailed(
        client=client,
        duration_minutes=duration_minutes,
        from_=from_,
        to=to,
        capacity_min=capacity_min,
        amenity=amenity,
        building=building,
        floor=floor,
        limit=limit,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    duration_minutes: int,
    from_: datetime.datetime,
    to: datetime.datetime,
    capacity_min: int | Unset = UNSET,
    amenity: list[str] | Unset = UNSET,
    building: str | Unset = UNSET,
    floor: str | Unset = UNSET,
    limit: int | Unset = 10,
) -> Response[Error | FreeWindows]:
    """Find a time: the earliest free windows across the rooms that match.

     Windows of `duration_minutes` inside [from, to) (at most 31 days) in active rooms,
    earliest first, at most `limit`: each is free of PENDING and CONFIRMED bookings (kept
    apart by the room's buffer) and of closures, starts no earlier than now, lies inside
    the room's opening hours and meets its notice, horizon and duration rules for the
    caller (admins and the room's approvers are held to bookings, buffers and closures
    only). A room offers one window per free stretch, at the stretch's start.

    Args:
        duration_minutes (int):
        from_ (datetime.datetime):
        to (datetime.datetime):
        capacity_min (int | Unset):
        amenity (list[str] | Unset):
        building (str | Unset):
        floor (str | Unset):
        limit (int | Unset):  Default: 10.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | FreeWindows]
    """

    kwargs = _get_kwargs(
        duration_minutes=duration_minutes,
        from_=from_,
        to=to,
        capacity_min=capacity_min,
        amenity=amenity,
        building=building,
        floor=floor,
        limit=limit,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    duration_minutes: int,
    from_: datetime.datetime,
    to: datetime.datetime,
    capacity_min: int | Unset = UNSET,
    amenity: list[str] | Unset = UNSET,
    building: str | Unset = UNSET,
    floor: str | Unset = UNSET,
    limit: int | Unset = 10,
) -> Error | FreeWindows | None:
    """Find a time: the earliest free windows across the rooms that match.

     Windows of `duration_minutes` inside [from, to) (at most 31 days) in active rooms,
    earliest first, at most `limit`: each is free of PENDING and CONFIRMED bookings (kept
    apart by the room's buffer) and of closures, starts no earlier than now, lies inside
    the room's opening hours and meets its notice, horizon and duration rules for the
    caller (admins and the room's approvers are held to bookings, buffers and closures
    only). A room offers one window per free stretch, at the stretch's start.

    Args:
        duration_minutes (int):
        from_ (datetime.datetime):
        to (datetime.datetime):
        capacity_min (int | Unset):
        amenity (list[str] | Unset):
        building (str | Unset):
        floor (str | Unset):
        limit (int | Unset):  Default: 10.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | FreeWindows
    """

    return (
        await asyncio_detailed(
            client=client,
            duration_minutes=duration_minutes,
            from_=from_,
            to=to,
            capacity_min=capacity_min,
            amenity=amenity,
            building=building,
            floor=floor,
            limit=limit,
        )
    ).parsed
