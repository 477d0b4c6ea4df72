import datetime
from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.room_page import RoomPage
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    limit: int | Unset = 50,
    offset: int | Unset = 0,
    start_time: datetime.datetime,
    end_time: datetime.datetime,
    capacity_min: int | Unset = UNSET,
    amenity: list[str] | Unset = UNSET,
    building: str | Unset = UNSET,
    floor: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["limit"] = limit

    params["offset"] = offset

    json_start_time = start_time.isoformat()
    params["start_time"] = json_start_time

    json_end_time = end_time.isoformat()
    params["end_time"] = json_end_time

    params["capacity_min"] = capacity_min

    json_amenity: list[str] | Unset = UNSET
    if not isinstance(amenity, Unset):
        json_amenity = amenity

    params["amenity"] = json_amenity

    params["building"] = building

    params["floor"] = floor

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/rooms/availability",
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | RoomPage:
    if response.status_code == 200:
        response_200 = RoomPage.from_dict(response.json())

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Error | RoomPage]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    limit: int | Unset = 50,
    offset: int | Unset = 0,
    start_time: datetime.datetime,
    end_time: datetime.datetime,
    capacity_min: int | Unset = UNSET,
    amenity: list[str] | Unset = UNSET,
    building: str | Unset = UNSET,
    floor: str | Unset = UNSET,
) -> Response[Error | RoomPage]:
    """Active rooms free for all of [start_time, end_time): no confirmed or pending booking
    overlaps it (back to back is free), no closure does, and it lies inside the room's
    opening hours, when it has them.

    Args:
        limit (int | Unset):  Default: 50.
        offset (int | Unset):  Default: 0.
        start_time (datetime.datetime):
        end_time (datetime.datetime):
        capacity_min (int | Unset):
        amenity (list[str] | Unset):
        building (str | Unset):
        floor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | RoomPage]
    """

    kwargs = _get_kwargs(
        limit=limit,
        offset=offset,
        start_time=start_time,
        end_time=end_time,
        capacity_min=capacity_min,
        amenity=amenity,
        building=building,
        floor=floor,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    limit: int | Unset = 50,
    offset: int | Unset = 0,
    start_time: datetime.datetime,
    end_time: datetime.datetime,
    capacity_min: int | Unset = UNSET,
    amenity: list[str] | Unset = UNSET,
    building: str | Unset = UNSET,
    floor: str | Unset = UNSET,
) -> Error | RoomPage | None:
    """Active rooms free for all of [start_time, end_time): no confirmed or pending booking
    overlaps it (back to back is free), no closure does, and it lies inside the room's
    opening hours, when it has them.

    Args:
        limit (int | Unset):  Default: 50.
        offset (int | Unset):  Default: 0.
        start_time (datetime.datetime):
        end_time (datetime.datetime):
        capacity_min (int | Unset):
        amenity (list[str] | Unset):
        building (str | Unset):
        floor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | RoomPage
    """

    return sync_detailed(
        client=client,
        limit=limit,
        offset=offset,
        start_time=start_time,
        end_time=end_time,
        capacity_min=capacity_min,
        amenity=amenity,
        building=building,
        floor=floor,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    limit: int | Unset = 50,
    offset: int | Unset = 0,
    start_time: datetime.datetime,
    end_time: datetime.datetime,
    capacity_min: int | Unset = UNSET,
    amenity: list[str] | Unset = UNSET,
    building: str | Unset = UNSET,
    floor: str | Unset = UNSET,
) -> Response[Error | RoomPage]:
    """Active rooms free for all of [start_time, end_time): no confirmed or pending booking
    overlaps it (back to back is free), no closure does, and it lies inside the room's
    opening hours, when it has them.

    Args:
        limit (int | Unset):  Default: 50.
        offset (int | Unset):  Default: 0.
        start_time (datetime.datetime):
        end_time (datetime.datetime):
        capacity_min (int | Unset):
        amenity (list[str] | Unset):
        building (str | Unset):
        floor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | RoomPage]
    """

    kwargs = _get_kwargs(
        limit=limit,
        offset=offset,
        start_time=start_time,
        end_time=end_time,
        capacity_min=capacity_min,
        amenity=amenity,
        building=building,
        floor=floor,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    limit: int | Unset = 50,
    offset: int | Unset = 0,
    start_time: datetime.datetime,
    end_time: datetime.datetime,
    capacity_min: int | Unset = UNSET,
    amenity: list[str] | Unset = UNSET,
    building: str | Unset = UNSET,
    floor: str | Unset = UNSET,
) -> Error | RoomPage | None:
    """Active rooms free for all of [start_time, end_time): no confirmed or pending booking
    overlaps it (back to back is free), no closure does, and it lies inside the room's
    opening hours, when it has them.

    Args:
        limit (int | Unset):  Default: 50.
        offset (int | Unset):  Default: 0.
        start_time (datetime.datetime):
        end_time (datetime.datetime):
        capacity_min (int | Unset):
        amenity (list[str] | Unset):
        building (str | Unset):
        floor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | RoomPage
    """

    return (
        await asyncio_detailed(
            client=client,
            limit=limit,
            offset=offset,
            start_time=start_time,
            end_time=end_time,
            capacity_min=capacity_min,
            amenity=amenity,
            building=building,
            floor=floor,
        )
    ).parsed
