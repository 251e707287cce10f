package store_test

import (
	"testing"

	"github.com/cairn-dev/cairn/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }
