package audit

// Channel is how a shopper meets the service: in person, by phone, in
// writing. A checklist targets exactly one channel.
type Channel string

// The channels.
const (
	ChannelStoreVisit     Channel = "store_visit"
	ChannelPhoneCall      Channel = "phone_call"
	ChannelBackOfficeCall Channel = "back_office_call"
	ChannelEmail          Channel = "email"
	ChannelChat           Channel = "chat"
	ChannelSocial         Channel = "social"
	ChannelDelivery       Channel = "delivery"
)

// Channels lists every channel, in a stable order.
var Channels = []Channel{
	ChannelStoreVisit, ChannelPhoneCall, ChannelBackOfficeCall,
	ChannelEmail, ChannelChat, ChannelSocial, ChannelDelivery,
}

// Valid reports whether c is one of the known channels.
func (c Channel) Valid() bool {
	for _, x := range Channels {
		if c == x {
			return true
		}
	}
	return false
}
